package export

import (
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"

	"github.com/foveanet/fovea/model/flowview"
)

// flowEventName is the LogRecord event name of a flow.
const flowEventName = "hubble.flow"

// The LogRecord attributes of a flow: OpenTelemetry's semantic conventions
// where they have a name, hubble.* for the rest.
const (
	attrSourceAddress      = "source.address"
	attrSourcePort         = "source.port"
	attrDestinationAddress = "destination.address"
	attrDestinationPort    = "destination.port"
	attrNetworkTransport   = "network.transport"
	attrNetworkType        = "network.type"
	attrNamespace          = "k8s.namespace.name"
	attrPod                = "k8s.pod.name"
	attrSourceNamespace    = "hubble.source.namespace"
	attrSourcePod          = "hubble.source.pod"
	attrDestNamespace      = "hubble.destination.namespace"
	attrDestPod            = "hubble.destination.pod"
	attrVerdict            = "hubble.verdict"
	attrDropReason         = "hubble.drop_reason"
	attrTrafficDirection   = "hubble.traffic_direction"
	attrIsReply            = "hubble.is_reply"
)

// newResource describes the node every record of an agent comes from.
func newResource(node *flowview.Node) *resourcepb.Resource {
	attrs := []*commonpb.KeyValue{strAttr("service.name", "fovea"), strAttr("k8s.node.name", node.Name)}
	if node.Version != "" {
		attrs = append(attrs, strAttr("service.version", node.Version))
	}
	if node.Cluster != "" {
		attrs = append(attrs, strAttr("k8s.cluster.name", node.Cluster))
	}
	return &resourcepb.Resource{Attributes: attrs}
}

// logRecord is the LogRecord of a flow: its time, the flow's JSON as body
// (body, the field mask applied) and attributes from the whole flow f, so
// that a collector routes and filters on them whatever the mask keeps.
func logRecord(f *flowpb.Flow, body string, observed time.Time) *logspb.LogRecord {
	rec := &logspb.LogRecord{
		TimeUnixNano:         uint64(f.GetTime().AsTime().UnixNano()),
		ObservedTimeUnixNano: uint64(observed.UnixNano()),
		SeverityNumber:       logspb.SeverityNumber_SEVERITY_NUMBER_INFO,
		SeverityText:         "INFO",
		EventName:            flowEventName,
		Body:                 &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: body}},
		Attributes:           make([]*commonpb.KeyValue, 0, 16),
	}
	if f.GetVerdict() == flowpb.Verdict_DROPPED {
		rec.SeverityNumber, rec.SeverityText = logspb.SeverityNumber_SEVERITY_NUMBER_WARN, "WARN"
	}
	add := func(key, value string) {
		if value != "" {
			rec.Attributes = append(rec.Attributes, strAttr(key, value))
		}
	}
	add(attrSourceAddress, f.GetIP().GetSource())
	add(attrDestinationAddress, f.GetIP().GetDestination())
	switch f.GetIP().GetIpVersion() {
	case flowpb.IPVersion_IPv4:
		add(attrNetworkType, "ipv4")
	case flowpb.IPVersion_IPv6:
		add(attrNetworkType, "ipv6")
	}
	transport, sport, dport := l4(f.GetL4())
	add(attrNetworkTransport, transport)
	if sport != 0 || dport != 0 {
		rec.Attributes = append(rec.Attributes, intAttr(attrSourcePort, int64(sport)), intAttr(attrDestinationPort, int64(dport)))
	}
	src, dst := f.GetSource(), f.GetDestination()
	local := src
	if f.GetTrafficDirection() == flowpb.TrafficDirection_INGRESS || local.GetPodName() == "" && f.GetTrafficDirection() != flowpb.TrafficDirection_EGRESS {
		local = dst
	}
	add(attrNamespace, local.GetNamespace())
	add(attrPod, local.GetPodName())
	add(attrSourceNamespace, src.GetNamespace())
	add(attrSourcePod, src.GetPodName())
	add(attrDestNamespace, dst.GetNamespace())
	add(attrDestPod, dst.GetPodName())
	add(attrVerdict, f.GetVerdict().String())
	if f.GetVerdict() == flowpb.Verdict_DROPPED {
		add(attrDropReason, f.GetDropReasonDesc().String())
	}
	add(attrTrafficDirection, f.GetTrafficDirection().String())
	if f.GetIsReply() != nil {
		rec.Attributes = append(rec.Attributes, &commonpb.KeyValue{Key: attrIsReply,
			Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: f.GetIsReply().GetValue()}}})
	}
	return rec
}

// l4 is a flow's transport in the semantic conventions' words (none for
// ICMP, which they do not name) and its ports.
func l4(l *flowpb.Layer4) (transport string, sport, dport uint32) {
	switch {
	case l.GetTCP() != nil:
		return "tcp", l.GetTCP().GetSourcePort(), l.GetTCP().GetDestinationPort()
	case l.GetUDP() != nil:
		return "udp", l.GetUDP().GetSourcePort(), l.GetUDP().GetDestinationPort()
	case l.GetSCTP() != nil:
		return "sctp", l.GetSCTP().GetSourcePort(), l.GetSCTP().GetDestinationPort()
	}
	return "", 0, 0
}

func strAttr(key, value string) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: key, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: value}}}
}

func intAttr(key string, value int64) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: key, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: value}}}
}
