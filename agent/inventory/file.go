package inventory

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/foveanet/fovea/agent/endpoints"
	"github.com/foveanet/fovea/model/record"
)

// file is the inventory's top level. Entries stay raw until each is
// decoded on its own, so an error can name the entry it is in.
type file struct {
	Pods     []json.RawMessage `json:"pods"`
	Services []json.RawMessage `json:"services"`
}

// Pod is one pod entry of the file.
type Pod struct {
	Namespace      string            `json:"namespace"`
	Name           string            `json:"name"`
	Labels         map[string]string `json:"labels,omitempty"`
	IPs            []string          `json:"ips,omitempty"`
	Node           string            `json:"node,omitempty"`
	ServiceAccount string            `json:"serviceAccount,omitempty"`
	Workload       *Workload         `json:"workload,omitempty"`
	// Annotations are the pod's; only Retina's retina.sh: observe is read.
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Workload names a pod's owning controller (Deployment, StatefulSet, …).
type Workload struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// Service is one service entry of the file.
type Service struct {
	Namespace  string   `json:"namespace"`
	Name       string   `json:"name"`
	ClusterIPs []string `json:"clusterIPs"`
	// Ports the service answers on; none means every port.
	Ports []Port `json:"ports,omitempty"`
}

// Port is a service port; Protocol is TCP (the default), UDP or SCTP.
type Port struct {
	Port     int    `json:"port"`
	Protocol string `json:"protocol,omitempty"`
}

// File is an inventory as written to disk, for programs that generate one.
type File struct {
	Pods     []Pod     `json:"pods,omitempty"`
	Services []Service `json:"services,omitempty"`
}

// Marshal renders f as YAML that Parse accepts.
func (f *File) Marshal() ([]byte, error) {
	b, err := yaml.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("marshal inventory: %w", err)
	}
	return b, nil
}

// Parse reads an inventory. Unknown keys, bad addresses, ports or
// protocols, missing names and duplicate pods are errors naming the entry.
// Pods get cluster as their cluster name.
func Parse(data []byte, cluster string) ([]endpoints.Pod, []endpoints.Service, error) {
	var f file
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		return nil, nil, fmt.Errorf("parse inventory: %w", err)
	}
	pods := make([]endpoints.Pod, 0, len(f.Pods))
	seen := make(map[string]int, len(f.Pods))
	for i, raw := range f.Pods {
		var p Pod
		err := decodeStrict(raw, &p)
		if err == nil {
			var pod endpoints.Pod
			pod, err = p.endpoint(cluster)
			pods = append(pods, pod)
		}
		if err == nil {
			key := p.Namespace + "/" + p.Name
			if first, dup := seen[key]; dup {
				err = fmt.Errorf("duplicate of pods[%d]", first)
			}
			seen[key] = i
		}
		if err != nil {
			return nil, nil, entryError("pods", i, raw, err)
		}
	}
	services := make([]endpoints.Service, 0, len(f.Services))
	for i, raw := range f.Services {
		var s Service
		err := decodeStrict(raw, &s)
		if err == nil {
			var svc endpoints.Service
			svc, err = s.service()
			services = append(services, svc)
		}
		if err != nil {
			return nil, nil, entryError("services", i, raw, err)
		}
	}
	return pods, services, nil
}

func decodeStrict(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// entryError names the entry as "pods[3] (ns/name)", the name read
// leniently so that it shows even when the entry does not decode.
func entryError(list string, i int, raw json.RawMessage, err error) error {
	var id struct{ Namespace, Name string }
	_ = json.Unmarshal(raw, &id)
	return fmt.Errorf("parse inventory: %s[%d] (%s/%s): %w", list, i, id.Namespace, id.Name, err)
}

func (p *Pod) endpoint(cluster string) (endpoints.Pod, error) {
	if p.Namespace == "" || p.Name == "" {
		return endpoints.Pod{}, errors.New("namespace and name are required")
	}
	ips, err := parseAddrs("ips", p.IPs)
	if err != nil {
		return endpoints.Pod{}, err
	}
	pod := endpoints.Pod{
		Cluster: cluster, Namespace: p.Namespace, Name: p.Name, Labels: p.Labels,
		ServiceAccount: p.ServiceAccount, Node: p.Node, IPs: ips, Observed: endpoints.Observes(p.Annotations),
	}
	if w := p.Workload; w != nil {
		if w.Kind == "" || w.Name == "" {
			return endpoints.Pod{}, errors.New("workload: kind and name are required")
		}
		pod.Workload = endpoints.Workload{Kind: w.Kind, Name: w.Name}
	}
	return pod, nil
}

func (s *Service) service() (endpoints.Service, error) {
	if s.Namespace == "" || s.Name == "" {
		return endpoints.Service{}, errors.New("namespace and name are required")
	}
	addrs, err := parseAddrs("clusterIPs", s.ClusterIPs)
	if err != nil {
		return endpoints.Service{}, err
	}
	var ports []endpoints.Frontend
	for i, p := range s.Ports {
		if p.Port < 1 || p.Port > 65535 {
			return endpoints.Service{}, fmt.Errorf("ports[%d]: %d is not a port (1-65535)", i, p.Port)
		}
		proto, ok := protocols[strings.ToUpper(p.Protocol)]
		if !ok {
			return endpoints.Service{}, fmt.Errorf("ports[%d]: protocol %q is not TCP, UDP or SCTP", i, p.Protocol)
		}
		ports = append(ports, endpoints.Frontend{Port: uint16(p.Port), Proto: proto})
	}
	if len(ports) == 0 {
		ports = []endpoints.Frontend{{}} // every port and protocol
	}
	svc := endpoints.Service{Namespace: s.Namespace, Name: s.Name}
	for _, a := range addrs {
		for _, p := range ports {
			p.Addr = a
			svc.Frontends = append(svc.Frontends, p)
		}
	}
	return svc, nil
}

var protocols = map[string]uint8{"": record.ProtoTCP, "TCP": record.ProtoTCP, "UDP": record.ProtoUDP, "SCTP": record.ProtoSCTP}

func parseAddrs(field string, ss []string) ([]netip.Addr, error) {
	out := make([]netip.Addr, 0, len(ss))
	for i, s := range ss {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %q is not an IP address", field, i, s)
		}
		out = append(out, a.Unmap())
	}
	return out, nil
}
