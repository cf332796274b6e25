{{/* The release's name prefix for every object, at most 63 characters
less room for the longest suffix ("-relay-client-tls"). */}}
{{- define "fovea.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 45 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 45 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The labels that select a component's pods: (dict "root" $ "component" "agent"). */}}
{{- define "fovea.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Every label of a component's objects. */}}
{{- define "fovea.labels" -}}
{{ include "fovea.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* An image reference from (dict "image" .Values.image "root" $): the
tag, else the chart's appVersion, and the digest when set, which the
runtime pulls by (the tag is for people reading it). */}}
{{- define "fovea.image" -}}
{{- $ref := printf "%s:%s" .image.repository (.image.tag | default .root.Chart.AppVersion) -}}
{{- if .image.digest -}}
{{- $ref = printf "%s@%s" $ref .image.digest -}}
{{- end -}}
{{- $ref -}}
{{- end -}}

{{/* GOMEMLIMIT for a memory limit quantity (such as 512Mi): 90% of it in
bytes, so the Go heap collects before the container is killed. */}}
{{- define "fovea.gomemlimit" -}}
{{- $q := toString . -}}
{{- $n := regexFind "^[0-9]+" $q | int64 -}}
{{- $unit := trimPrefix (toString $n) $q -}}
{{- $scale := dict "" 1 "k" 1000 "M" 1000000 "G" 1000000000 "T" 1000000000000 "Ki" 1024 "Mi" 1048576 "Gi" 1073741824 "Ti" 1099511627776 -}}
{{- if not (hasKey $scale $unit) -}}
{{- fail (printf "resources.limits.memory %q: use an integer with one of the units k, M, G, T, Ki, Mi, Gi, Ti" $q) -}}
{{- end -}}
{{- div (mul $n (get $scale $unit) 9) 10 -}}
{{- end -}}

{{/* The Secrets holding the agents' server certificate and the relay's
client certificate, whatever makes them. */}}
{{- define "fovea.agentTLSSecret" -}}
{{- if eq .Values.tls.mode "secrets" -}}
{{- required "tls.secrets.agent: name the Secret of the agents' certificate (tls.mode is secrets)" .Values.tls.secrets.agent -}}
{{- else -}}
{{- include "fovea.fullname" . }}-agent-tls
{{- end -}}
{{- end -}}

{{- define "fovea.relayTLSSecret" -}}
{{- if eq .Values.tls.mode "secrets" -}}
{{- required "tls.secrets.relay: name the Secret of the relay's client certificate (tls.mode is secrets)" .Values.tls.secrets.relay -}}
{{- else -}}
{{- include "fovea.fullname" . }}-relay-client-tls
{{- end -}}
{{- end -}}

{{/* The name every agent certificate carries: the relay checks
<node>.<cluster>.hubble-grpc.cilium.io, as Hubble's relay does. */}}
{{- define "fovea.agentCertName" -}}
*.{{ .Values.clusterName }}.hubble-grpc.cilium.io
{{- end -}}

{{/* Whether the ServiceMonitors are rendered. */}}
{{- define "fovea.serviceMonitors" -}}
{{- if and .Values.metrics.serviceMonitor.enabled (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1/ServiceMonitor") -}}
true
{{- end -}}
{{- end -}}

{{/* Prometheus scrape annotations of a pod serving metrics on port, when
no ServiceMonitor scrapes it: (dict "root" $ "port" 9965). */}}
{{- define "fovea.scrapeAnnotations" -}}
{{- if and .port (not (include "fovea.serviceMonitors" .root)) -}}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .port | quote }}
{{- end -}}
{{- end -}}
