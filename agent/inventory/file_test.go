package inventory

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/foveanet/fovea/agent/endpoints"
	"github.com/foveanet/fovea/model/record"
)

const goodInventory = `
pods:
- namespace: demo
  name: frontend-1
  labels: {app: frontend}
  ips: [10.244.1.11, "fd00:10:244:1::11"]
  node: node1
  serviceAccount: web
  workload: {kind: Deployment, name: frontend}
  annotations: {retina.sh: observe}
- namespace: demo
  name: bare
services:
- namespace: demo
  name: backend
  clusterIPs: [10.96.0.10]
  ports: [{port: 80}, {port: 53, protocol: udp}]
- namespace: demo
  name: any
  clusterIPs: [10.96.0.11]
`

func TestParse(t *testing.T) {
	pods, svcs, err := Parse([]byte(goodInventory), "c1")
	if err != nil {
		t.Fatal(err)
	}
	if len(pods) != 2 || len(svcs) != 2 {
		t.Fatalf("got %d pods, %d services", len(pods), len(svcs))
	}
	p := pods[0]
	if p.Cluster != "c1" || p.Namespace != "demo" || p.Name != "frontend-1" || p.ServiceAccount != "web" ||
		p.Node != "node1" || p.Labels["app"] != "frontend" || p.Workload != (endpoints.Workload{Kind: "Deployment", Name: "frontend"}) ||
		len(p.IPs) != 2 || p.IPs[0] != netip.MustParseAddr("10.244.1.11") || !p.Observed || pods[1].Observed {
		t.Errorf("pod = %+v", p)
	}
	want := []endpoints.Frontend{
		{Addr: netip.MustParseAddr("10.96.0.10"), Port: 80, Proto: record.ProtoTCP},
		{Addr: netip.MustParseAddr("10.96.0.10"), Port: 53, Proto: record.ProtoUDP},
	}
	if got := svcs[0].Frontends; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("frontends = %+v", got)
	}
	if got := svcs[1].Frontends; len(got) != 1 || got[0].Port != 0 || got[0].Proto != 0 {
		t.Errorf("a service without ports has frontends %+v, want one for every port", got)
	}
}

func TestParseRoundTrip(t *testing.T) {
	f := File{
		Pods:     []Pod{{Namespace: "demo", Name: "a", IPs: []string{"10.0.0.1"}, Workload: &Workload{Kind: "Deployment", Name: "a"}}},
		Services: []Service{{Namespace: "demo", Name: "s", ClusterIPs: []string{"10.96.0.1"}, Ports: []Port{{Port: 80}}}},
	}
	data, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	pods, svcs, err := Parse(data, "c")
	if err != nil || len(pods) != 1 || len(svcs) != 1 {
		t.Fatalf("Parse(Marshal()) = %v, %v, %v\n%s", pods, svcs, err, data)
	}
}

func TestParseErrorsNameTheEntry(t *testing.T) {
	for _, c := range []struct{ name, yaml, want string }{
		{"unknown top-level key", "pod: []", `unknown field "pod"`},
		{"unknown pod key", "pods: [{namespace: demo, name: a, lables: {}}]", `pods[0] (demo/a): json: unknown field "lables"`},
		{"bad ip", "pods: [{namespace: demo, name: a}, {namespace: demo, name: b, ips: [10.0.0.300]}]", `pods[1] (demo/b): ips[0]: "10.0.0.300" is not an IP address`},
		{"no name", "pods: [{namespace: demo}]", "pods[0] (demo/): namespace and name are required"},
		{"duplicate pod", "pods: [{namespace: d, name: a}, {namespace: d, name: a}]", "pods[1] (d/a): duplicate of pods[0]"},
		{"half a workload", "pods: [{namespace: d, name: a, workload: {kind: Deployment}}]", "workload: kind and name are required"},
		{"bad service ip", "services: [{namespace: d, name: s, clusterIPs: [nope]}]", `services[0] (d/s): clusterIPs[0]: "nope" is not an IP address`},
		{"bad port", "services: [{namespace: d, name: s, clusterIPs: [10.96.0.1], ports: [{port: 70000}]}]", "services[0] (d/s): ports[0]: 70000 is not a port"},
		{"bad protocol", "services: [{namespace: d, name: s, clusterIPs: [10.96.0.1], ports: [{port: 80, protocol: ICMP}]}]", `protocol "ICMP" is not TCP, UDP or SCTP`},
		{"unknown service key", "services: [{namespace: d, name: s, clusterIP: 10.96.0.1}]", `services[0] (d/s): json: unknown field "clusterIP"`},
		{"not yaml", "pods: [", "parse inventory"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := Parse([]byte(c.yaml), "c")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(goodInventory))
	f.Add([]byte("pods: [{namespace: d, name: a, ips: [::1]}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pods, svcs, err := Parse(data, "c")
		if err != nil && (pods != nil || svcs != nil) {
			t.Fatal("Parse returned data with an error")
		}
	})
}
