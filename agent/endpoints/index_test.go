package endpoints

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/foveanet/fovea/model/intern"
)

var (
	ipA   = netip.MustParseAddr("10.244.1.11")
	ipB   = netip.MustParseAddr("10.244.2.11")
	ipSvc = netip.MustParseAddr("10.96.0.10")
)

func TestBuildAndLookup(t *testing.T) {
	tables := intern.NewTables()
	pods := []Pod{
		{Namespace: "demo", Name: "a", Labels: map[string]string{"app": "a"}, IPs: []netip.Addr{ipA, netip.MustParseAddr("fd00::a")}},
		{Namespace: "demo", Name: "b", Labels: map[string]string{"app": "b"}, IPs: []netip.Addr{netip.MustParseAddr("::ffff:10.244.2.11")}},
	}
	svcs := []Service{{Namespace: "demo", Name: "web", Frontends: []Frontend{
		{Addr: ipSvc, Port: 80, Proto: 6},
		{Addr: ipSvc, Port: 53},
	}}}
	ix, err := Build(tables, pods, svcs)
	if err != nil {
		t.Fatal(err)
	}
	if ep := tables.Endpoints.Get(ix.Endpoint(ipA)); ep.GetPodName() != "a" {
		t.Errorf("Endpoint(%s) = %v", ipA, ep)
	}
	if ep := tables.Endpoints.Get(ix.Endpoint(netip.MustParseAddr("fd00::a"))); ep.GetPodName() != "a" {
		t.Errorf("IPv6 endpoint = %v", ep)
	}
	if ep := tables.Endpoints.Get(ix.Endpoint(ipB)); ep.GetPodName() != "b" {
		t.Errorf("v4-mapped address was not unmapped: %v", ep)
	}
	if ref := ix.Endpoint(netip.MustParseAddr("10.0.0.1")); ref != 0 {
		t.Errorf("unknown address got ref %d", ref)
	}
	for _, c := range []struct {
		port  uint16
		proto uint8
		want  bool
	}{{80, 6, true}, {80, 17, false}, {53, 17, true}, {53, 6, true}, {443, 6, false}} {
		got := tables.Services.Get(service(ix, ipSvc, c.port, c.proto)).GetName() == "web"
		if got != c.want {
			t.Errorf("Service(%s:%d/%d) found=%v, want %v", ipSvc, c.port, c.proto, got, c.want)
		}
	}
	if Empty.Endpoint(ipA) != 0 || service(Empty, ipSvc, 80, 6) != 0 {
		t.Error("the empty index knows something")
	}
}

func TestBuildInternsByContent(t *testing.T) {
	tables := intern.NewTables()
	pod := Pod{Namespace: "demo", Name: "a", Labels: map[string]string{"app": "a"}, IPs: []netip.Addr{ipA}}
	first, _ := Build(tables, []Pod{pod}, nil)
	again, _ := Build(tables, []Pod{pod}, nil)
	if first.Endpoint(ipA) != again.Endpoint(ipA) {
		t.Error("an unchanged pod got a new ref")
	}
	old := first.Endpoint(ipA)
	pod.Labels = map[string]string{"app": "a", "version": "2"}
	changed, _ := Build(tables, []Pod{pod}, nil)
	if changed.Endpoint(ipA) == old {
		t.Fatal("a relabelled pod kept its ref")
	}
	// Records written before the change keep meaning the old pod.
	if got := tables.Endpoints.Get(old).GetLabels(); len(got) != 3 {
		t.Errorf("old endpoint changed: %v", got)
	}
}

func TestBuildIPReuse(t *testing.T) {
	tables := intern.NewTables()
	store := NewStore()
	oldPod := Pod{Namespace: "demo", Name: "old", IPs: []netip.Addr{ipA}}
	ix, _ := Build(tables, []Pod{oldPod}, nil)
	store.Replace(ix)
	oldRef := store.Load().Endpoint(ipA)

	// The old pod is deleted and its address given to a new pod.
	ix, _ = Build(tables, []Pod{{Namespace: "demo", Name: "new", IPs: []netip.Addr{ipA}}}, nil)
	store.Replace(ix)
	if ref := store.Load().Endpoint(ipA); ref == oldRef || tables.Endpoints.Get(ref).GetPodName() != "new" {
		t.Errorf("reused address resolves to %v", tables.Endpoints.Get(ref))
	}
	if tables.Endpoints.Get(oldRef).GetPodName() != "old" {
		t.Error("the old pod's interned endpoint changed")
	}
}

func TestBuildRejectsSharedAddress(t *testing.T) {
	_, err := Build(intern.NewTables(), []Pod{
		{Namespace: "demo", Name: "a", IPs: []netip.Addr{ipA}},
		{Namespace: "demo", Name: "b", IPs: []netip.Addr{ipA}},
	}, nil)
	if err == nil || !strings.Contains(err.Error(), "demo/a") || !strings.Contains(err.Error(), "demo/b") {
		t.Fatalf("err = %v, want one naming both pods", err)
	}
}

func TestStoreStartsEmpty(t *testing.T) {
	if NewStore().Load() != Empty {
		t.Fatal("a new store does not hold the empty index")
	}
}

func service(ix *Index, a netip.Addr, port uint16, proto uint8) intern.Ref {
	_, svc := ix.Lookup(a, port, proto)
	return svc
}

func TestBuildRemoteNodes(t *testing.T) {
	tables := intern.NewTables()
	node2, hostNet := netip.MustParseAddr("172.30.0.2"), netip.MustParseAddr("172.30.0.3")
	ix, err := Build(tables, []Pod{{Namespace: "kube-system", Name: "proxy", IPs: []netip.Addr{hostNet}}}, nil,
		RemoteNodes([]netip.Addr{node2, hostNet}))
	if err != nil {
		t.Fatal(err)
	}
	if ep := tables.Endpoints.Get(ix.Endpoint(node2)); ep.GetIdentity() != IdentityRemoteNode || ep.GetLabels()[0] != "reserved:remote-node" {
		t.Errorf("remote node = %v", ep)
	}
	if ep := tables.Endpoints.Get(ix.Endpoint(hostNet)); ep.GetPodName() != "proxy" {
		t.Errorf("a pod's address was labelled %v", ep)
	}
}

func TestBuildBackends(t *testing.T) {
	tables := intern.NewTables()
	ix, err := Build(tables, []Pod{{Namespace: "demo", Name: "a", IPs: []netip.Addr{ipA}}}, []Service{
		{Namespace: "demo", Name: "web", Backends: []Backend{{Addr: ipA, Port: 8080, Proto: 6}, {Addr: ipB, Port: 8080, Proto: 6}}},
		// A load balancer that delivers straight to the pod: its frontend
		// is the pod's address.
		{Namespace: "demo", Name: "direct", Frontends: []Frontend{{Addr: ipB, Port: 8080, Proto: 6}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		addr  netip.Addr
		port  uint16
		proto uint8
		want  string
	}{
		{ipA, 8080, 6, "web"},
		{ipA, 8080, 17, ""},
		{ipA, 9090, 6, ""},
		{ipB, 8080, 6, "direct"}, // the frontend first
	} {
		ep, svc := ix.Lookup(c.addr, c.port, c.proto)
		if got := tables.Services.Get(svc).GetName(); got != c.want {
			t.Errorf("service of %s:%d/%d = %q, want %q", c.addr, c.port, c.proto, got, c.want)
		}
		if c.addr == ipA && tables.Endpoints.Get(ep).GetPodName() != "a" {
			t.Errorf("a backend lost its pod: %v", tables.Endpoints.Get(ep))
		}
	}
}

func TestBuildKubeAPIServer(t *testing.T) {
	tables := intern.NewTables()
	local, remote, external, podAddr := netip.MustParseAddr("172.30.0.1"), netip.MustParseAddr("172.30.0.2"),
		netip.MustParseAddr("172.30.0.254"), netip.MustParseAddr("10.244.1.5")
	ix, err := Build(tables, []Pod{{Namespace: "kube-system", Name: "apiserver", IPs: []netip.Addr{podAddr}}}, nil,
		LocalNode([]netip.Addr{local}), RemoteNodes([]netip.Addr{remote, netip.MustParseAddr("172.30.0.3")}),
		KubeAPIServer([]netip.Addr{local, remote, external, podAddr}))
	if err != nil {
		t.Fatal(err)
	}
	for a, want := range map[netip.Addr]struct {
		id     uint32
		labels []string
	}{
		local:                             {IdentityHost, []string{LabelHost, LabelKubeAPIServer}},
		remote:                            {IdentityKubeAPIServer, []string{LabelKubeAPIServer, LabelRemoteNode}},
		external:                          {IdentityKubeAPIServer, []string{LabelKubeAPIServer, LabelWorld}},
		netip.MustParseAddr("172.30.0.3"): {IdentityRemoteNode, []string{LabelRemoteNode}},
	} {
		ep := tables.Endpoints.Get(ix.Endpoint(a))
		if ep.GetIdentity() != want.id || !slices.Equal(ep.GetLabels(), want.labels) {
			t.Errorf("%s = %d %v, want %d %v", a, ep.GetIdentity(), ep.GetLabels(), want.id, want.labels)
		}
	}
	if ep := tables.Endpoints.Get(ix.Endpoint(podAddr)); ep.GetPodName() != "apiserver" {
		t.Errorf("a pod's address was relabelled %v", ep)
	}
}

func TestKeepLocalPods(t *testing.T) {
	tables := intern.NewTables()
	pods := []Pod{
		{Namespace: "prod", Name: "here", Node: "node1", IPs: []netip.Addr{netip.MustParseAddr("10.0.1.1")}},
		{Namespace: "prod", Name: "there", Node: "node2", IPs: []netip.Addr{netip.MustParseAddr("10.0.2.1")}},
		{Namespace: "prod", Name: "unplaced", IPs: []netip.Addr{netip.MustParseAddr("10.0.3.1")}},
	}
	ix, err := Build(tables, pods, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := ix.LocalPods(); len(got) != 0 {
		t.Errorf("without KeepLocalPods the index kept %d pods", len(got))
	}
	ix, err = Build(tables, pods, nil, KeepLocalPods("node1"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range ix.LocalPods() {
		names = append(names, p.Name)
		if p.Endpoint != ix.Endpoint(p.IPs[0]) {
			t.Errorf("pod %s keeps endpoint %d, its address resolves to %d", p.Name, p.Endpoint, ix.Endpoint(p.IPs[0]))
		}
	}
	if want := []string{"here", "unplaced"}; !slices.Equal(names, want) {
		t.Errorf("local pods %v, want %v", names, want)
	}
}

func TestBuildObserved(t *testing.T) {
	pods := []Pod{
		{Namespace: "shop", Name: "a", IPs: []netip.Addr{netip.MustParseAddr("10.0.0.1")}, Observed: true},
		{Namespace: "shop", Name: "b", IPs: []netip.Addr{netip.MustParseAddr("10.0.0.2")}},
	}
	ix, err := Build(intern.NewTables(), pods, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !ix.Observed("shop", "a") || ix.Observed("shop", "b") || ix.Observed("other", "a") || Empty.Observed("shop", "a") {
		t.Error("Observed does not follow the pods' annotation")
	}
	if !Observes(map[string]string{"retina.sh": "observe"}) || Observes(map[string]string{"retina.sh": "ignore"}) || Observes(nil) {
		t.Error("Observes does not read Retina's annotation")
	}
}
