//go:build linux

package bpf

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/foveanet/fovea/model/record"
	"github.com/foveanet/fovea/test/cluster"
)

// The client of the coexistence tests is a second pod of the node, wired
// as the pod is (clientGwIPv4 on the node's end, clientIf): CNIs with eBPF
// programs deliver between the pods of a node with bpf_redirect_peer.
const (
	clientIf     = "fvc0"
	clientIPv4   = "10.79.0.2"
	clientGwIPv4 = "10.79.0.1"
)

// coexistNode is the test's node with another owner's programs on it, as
// a CNI with eBPF programs of its own has them:
//   - at the ingress of the client's veth (tcx), a drop of
//     foreignDropPort, then a redirect of packets to the pod straight into
//     the pod's namespace (bpf_redirect_peer, as Cilium with BPF host
//     routing and Calico eBPF deliver to a pod);
//   - at the ingress of the pod's veth (tcx), a redirect of packets to the
//     client straight into the client's namespace, and a legacy tc filter
//     at priority 1 that passes packets on;
//   - at the egress of the pod's veth (tcx), the same drop.
//
// The node does not forward (ip_forward 0): only the redirects carry
// packets between the client and the pod, so forwarding there proves them
// in place and in their order.
type coexistNode struct {
	clientNS     string
	host, client netlink.Link
	legacy       *netlink.BpfFilter
	hooks        []tcxHook
}

// tcxHook is one tcx hook of the node and the other owner's programs on
// it, in their order.
type tcxHook struct {
	iface   string
	index   int
	at      ebpf.AttachType
	foreign []ebpf.ProgramID
}

func newCoexistNode(t *testing.T, podNS string) *coexistNode {
	t.Helper()
	n := &coexistNode{clientNS: fmt.Sprintf("fovea-bpf-client-%d", os.Getpid())}
	sh(t, "ip", "netns", "add", n.clientNS)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", n.clientNS).Run() })
	sh(t, "ip", "link", "add", clientIf, "type", "veth", "peer", "name", "eth0", "netns", n.clientNS)
	sh(t, "ip", "addr", "add", clientGwIPv4+"/32", "dev", clientIf)
	sh(t, "ip", "link", "set", clientIf, "up")
	sh(t, "ip", "route", "add", clientIPv4+"/32", "dev", clientIf)
	sh(t, "ip", "-n", n.clientNS, "addr", "add", clientIPv4+"/24", "dev", "eth0")
	sh(t, "ip", "-n", n.clientNS, "link", "set", "eth0", "up")
	sh(t, "ip", "-n", n.clientNS, "route", "add", podIPv4+"/32", "via", clientGwIPv4)
	sh(t, "ip", "-n", podNS, "route", "add", clientIPv4+"/32", "via", hostIPv4)
	t.Cleanup(func() { _ = exec.Command("ip", "-n", podNS, "route", "del", clientIPv4+"/32").Run() })
	const ipForward = "/proc/sys/net/ipv4/ip_forward"
	forward, err := os.ReadFile(ipForward)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ipForward, []byte("0"), 0); err != nil {
		t.Fatalf("stop forwarding: %v", err)
	}
	t.Cleanup(func() { _ = os.WriteFile(ipForward, forward, 0) })

	if n.host, err = netlink.LinkByName(hostIf); err != nil {
		t.Fatalf("find %s: %v", hostIf, err)
	}
	if n.client, err = netlink.LinkByName(clientIf); err != nil {
		t.Fatalf("find %s: %v", clientIf, err)
	}
	hostIndex, clientIndex := n.host.Attrs().Index, n.client.Attrs().Index
	drop := foreignDropProgram(t)
	toPod := foreignRedirectProgram(t, netip.MustParseAddr(podIPv4), hostIndex)
	toClient := foreignRedirectProgram(t, netip.MustParseAddr(clientIPv4), clientIndex)
	n.hooks = []tcxHook{
		{iface: clientIf, index: clientIndex, at: ebpf.AttachTCXIngress, foreign: attachForeign(t, clientIndex, ebpf.AttachTCXIngress, drop, toPod)},
		{iface: clientIf, index: clientIndex, at: ebpf.AttachTCXEgress},
		{iface: hostIf, index: hostIndex, at: ebpf.AttachTCXIngress, foreign: attachForeign(t, hostIndex, ebpf.AttachTCXIngress, toClient)},
		{iface: hostIf, index: hostIndex, at: ebpf.AttachTCXEgress, foreign: attachForeign(t, hostIndex, ebpf.AttachTCXEgress, drop)},
	}
	pass := newTestSource(t, Config{}).objs.CaptureIngress // any program that passes packets on
	if n.legacy, err = attachLegacyFilter(hostIndex, pass); err != nil {
		t.Fatalf("add foreign tc filter: %v", err)
	}
	t.Cleanup(func() { _ = netlink.FilterDel(n.legacy) })
	return n
}

// attachForeign attaches progs at the tail of a tcx hook in their order
// and returns their ids.
func attachForeign(t *testing.T, index int, at ebpf.AttachType, progs ...*ebpf.Program) []ebpf.ProgramID {
	t.Helper()
	var ids []ebpf.ProgramID
	for _, p := range progs {
		l, err := link.AttachTCX(link.TCXOptions{Interface: index, Program: p, Attach: at, Anchor: link.Tail()})
		if err != nil {
			t.Fatalf("attach foreign tcx program: %v", err)
		}
		t.Cleanup(func() { _ = l.Close() })
		ids = append(ids, progID(t, p))
	}
	return ids
}

func progID(t *testing.T, p *ebpf.Program) ebpf.ProgramID {
	t.Helper()
	info, err := p.Info()
	if err != nil {
		t.Fatalf("program info: %v", err)
	}
	id, ok := info.ID()
	if !ok {
		t.Fatal("the kernel gives no program id")
	}
	return id
}

// coexistConfig selects both veths of the node.
func coexistConfig() Config { return Config{Interfaces: []string{hostIf, clientIf}} }

// ourProgs is how an agent's capture programs are attached.
type ourProgs struct {
	tc              bool // tc filters, not tcx links
	ingress, egress ebpf.ProgramID
}

func sourceProgs(t *testing.T, s *Source, tc bool) *ourProgs {
	t.Helper()
	return &ourProgs{tc: tc, ingress: progID(t, s.objs.CaptureIngress), egress: progID(t, s.objs.CaptureEgress)}
}

// checkHooks wants every hook to hold the other owner's programs in their
// order and, when ours is not nil, ours first: ahead of them in tcx, or as
// the only two tc filters of ours per interface. The legacy filter stays.
func (n *coexistNode) checkHooks(t *testing.T, when string, ours *ourProgs) {
	t.Helper()
	for _, h := range n.hooks {
		want := h.foreign
		if ours != nil && !ours.tc {
			first := ours.ingress
			if h.at == ebpf.AttachTCXEgress {
				first = ours.egress
			}
			want = append([]ebpf.ProgramID{first}, want...)
		}
		if got := tcxIDs(t, h.index, h.at); !slices.Equal(got, want) {
			t.Errorf("%s: %s %s programs %v, want %v", when, h.iface, h.at, got, want)
		}
	}
	for _, l := range []netlink.Link{n.client, n.host} {
		var got, want []string
		for _, f := range ourFilters(t, l) {
			got = append(got, f.Name+":"+strconv.Itoa(f.Id))
		}
		if ours != nil && ours.tc {
			want = []string{
				fmt.Sprintf("%s%s:%d", tcNamePrefix, Ingress, ours.ingress),
				fmt.Sprintf("%s%s:%d", tcNamePrefix, Egress, ours.egress),
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: our tc filters on %s %v, want %v", when, l.Attrs().Name, got, want)
		}
	}
	if !hasFilter(t, n.host, n.legacy) {
		t.Errorf("%s: foreign tc filter gone", when)
	}
}

// checkForwarding wants the pod's open port reachable from the node and,
// through the redirects, from the client, and the dropped port dropped
// both ways: were the client's redirect ahead of its drop, the pod would
// refuse the connection instead.
func (n *coexistNode) checkForwarding(t *testing.T, when string) {
	t.Helper()
	for _, from := range []struct{ name, ns string }{{"node", ""}, {"client", n.clientNS}} {
		if err := dialPod(t, from.ns, 8080, 5*time.Second); err != nil {
			t.Fatalf("%s: dial the pod's open port from the %s: %v", when, from.name, err)
		}
		err := dialPod(t, from.ns, foreignDropPort, 300*time.Millisecond)
		if ne, ok := errors.AsType[net.Error](err); !ok || !ne.Timeout() {
			t.Fatalf("%s: dial the port the foreign program drops from the %s: %v, want a timeout", when, from.name, err)
		}
	}
}

// dialPod connects to the pod's port from namespace ns (the node's when
// empty) and closes the connection.
func dialPod(t *testing.T, ns string, port int, timeout time.Duration) error {
	t.Helper()
	dial := func() error {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(podIPv4, strconv.Itoa(port)), timeout)
		if err == nil {
			_ = c.Close()
		}
		return err
	}
	if ns == "" {
		return dial()
	}
	var dialErr error
	if err := cluster.NewNetns(ns).Do(func() error { dialErr = dial(); return nil }); err != nil {
		t.Fatalf("enter %s: %v", ns, err)
	}
	return dialErr
}

// checkReports wants what checkForwarding sent reported: both dropped SYNs
// as drops, which the drop tracepoint sees wherever they happen, and, where
// ours run first (tcx), the dropped SYNs before the drop and the
// redirected handshake at the ingress that redirects it. On the tc
// fallback the kernel runs every tcx program before any tc filter, so
// there ours see neither.
func (n *coexistNode) checkReports(t *testing.T, c *capture, tcx bool) {
	t.Helper()
	pod, client := netip.MustParseAddr(podIPv4), netip.MustParseAddr(clientIPv4)
	at := func(r *record.Record, iface string, obs flowpb.TraceObservationPoint) bool {
		return r.Kind == record.KindTrace && c.tables.Interfaces.Get(r.Iface).GetName() == iface &&
			flowpb.TraceObservationPoint(r.ObsPoint) == obs
	}
	for _, d := range []struct {
		from, iface, reason string
		obs                 flowpb.TraceObservationPoint
	}{
		{hostIPv4, hostIf, "TC_EGRESS", flowpb.TraceObservationPoint_TO_ENDPOINT},
		{clientIPv4, clientIf, "TC_INGRESS", flowpb.TraceObservationPoint_FROM_ENDPOINT},
	} {
		src := netip.MustParseAddr(d.from)
		syn := func(r *record.Record) bool {
			return r.SrcAddr() == src && r.DstAddr() == pod && r.DstPort == foreignDropPort
		}
		r := c.waitRecord(t, "the SYN from "+d.from+", dropped", func(r *record.Record) bool {
			return r.Kind == record.KindDrop && syn(r)
		})
		if names := c.tables.Names.Get(r.Ext); !slices.Equal(names, []string{d.reason}) {
			t.Errorf("drop of the SYN from %s: reason %v, want %s", d.from, names, d.reason)
		}
		if tcx {
			c.waitRecord(t, "the SYN from "+d.from+", seen before the drop", func(r *record.Record) bool {
				return syn(r) && at(r, d.iface, d.obs)
			})
		}
	}
	if !tcx {
		return
	}
	c.waitRecord(t, "the client's SYN, redirected to the pod", func(r *record.Record) bool {
		return r.SrcAddr() == client && r.DstAddr() == pod && r.DstPort == 8080 && r.TCPFlags&(record.TCPSyn|record.TCPAck) == record.TCPSyn &&
			at(r, clientIf, flowpb.TraceObservationPoint_FROM_ENDPOINT)
	})
	c.waitRecord(t, "the pod's SYN-ACK, redirected to the client", func(r *record.Record) bool {
		return r.SrcAddr() == pod && r.DstAddr() == client && r.SrcPort == 8080 && r.TCPFlags&(record.TCPSyn|record.TCPAck) == record.TCPSyn|record.TCPAck &&
			at(r, hostIf, flowpb.TraceObservationPoint_FROM_ENDPOINT)
	})
}

// testCoexistence runs the source beside another owner's programs on the
// same interfaces (coexistNode): attached, detached and attached again,
// and killed and started again, it keeps the others attached and in their
// order, leaves forwarding as it was, and reports what they drop and
// redirect.
func testCoexistence(t *testing.T, podNS string) {
	n := newCoexistNode(t, podNS)
	n.checkForwarding(t, "before the source")
	n.checkHooks(t, "before the source", nil)
	t.Run("attach and detach", n.testAttachDetach)
	for _, mode := range []struct {
		name    string
		forceTC bool
	}{{"tcx", false}, {"tc", true}} {
		t.Run("killed/"+mode.name, func(t *testing.T) { n.testKilled(t, mode.forceTC) })
	}
	t.Run("unwatched sender", n.testUnwatchedSender)
}

// testUnwatchedSender captures on the pod's veth only, so the client's
// namespace is not watched, and wants the client's SYN that the foreign
// program drops at the node's device reported: the drop is the node's,
// though the packet still carries the socket of a namespace the source
// does not report (sockets survive veth crossings), as every packet a
// test node receives from another node on the same kernel does.
func (n *coexistNode) testUnwatchedSender(t *testing.T) {
	c := startCapture(t, Config{Interfaces: []string{hostIf}})
	defer c.stop(t)
	c.waitHook(t, hostIf+":true", 5*time.Second)
	_ = dialPod(t, n.clientNS, foreignDropPort, 300*time.Millisecond)
	client, pod := netip.MustParseAddr(clientIPv4), netip.MustParseAddr(podIPv4)
	r := c.waitRecord(t, "the client's SYN, dropped at the node's device", func(r *record.Record) bool {
		return r.Kind == record.KindDrop && r.SrcAddr() == client && r.DstAddr() == pod && r.DstPort == foreignDropPort
	})
	if names := c.tables.Names.Get(r.Ext); !slices.Equal(names, []string{"TC_INGRESS"}) {
		t.Errorf("drop reason %v, want TC_INGRESS", names)
	}
}

func (n *coexistNode) testAttachDetach(t *testing.T) {
	for round := range 2 {
		c := startCapture(t, coexistConfig())
		c.waitHook(t, hostIf+":true", 5*time.Second)
		c.waitHook(t, clientIf+":true", 5*time.Second)
		when := fmt.Sprintf("round %d", round)
		n.checkHooks(t, when+", attached", sourceProgs(t, c.src, false))
		n.checkForwarding(t, when+", attached")
		n.checkReports(t, c, true)
		c.stop(t)
		n.checkHooks(t, when+", detached", nil)
		n.checkForwarding(t, when+", detached")
	}
}

func tcxIDs(t *testing.T, index int, at ebpf.AttachType) []ebpf.ProgramID {
	t.Helper()
	res, err := link.QueryPrograms(link.QueryOptions{Target: index, Attach: at})
	if err != nil {
		t.Fatalf("query tcx programs: %v", err)
	}
	var ids []ebpf.ProgramID
	for _, p := range res.Programs {
		ids = append(ids, p.ID)
	}
	return ids
}

// attachLegacyFilter adds a direct-action tc filter at priority 1 on
// ingress, as CNIs without tcx do.
func attachLegacyFilter(index int, prog *ebpf.Program) (*netlink.BpfFilter, error) {
	qdisc := &netlink.GenericQdisc{
		QdiscAttrs: netlink.QdiscAttrs{LinkIndex: index, Handle: netlink.MakeHandle(0xffff, 0), Parent: netlink.HANDLE_CLSACT},
		QdiscType:  "clsact",
	}
	if err := netlink.QdiscAdd(qdisc); err != nil && !errors.Is(err, unix.EEXIST) {
		return nil, err
	}
	f := &netlink.BpfFilter{
		FilterAttrs: netlink.FilterAttrs{LinkIndex: index, Parent: netlink.HANDLE_MIN_INGRESS, Handle: 1, Priority: 1, Protocol: unix.ETH_P_ALL},
		Fd:          prog.FD(), Name: "foreign", DirectAction: true,
	}
	return f, netlink.FilterAdd(f)
}

func hasFilter(t *testing.T, l netlink.Link, want *netlink.BpfFilter) bool {
	t.Helper()
	filters, err := netlink.FilterList(l, want.Parent)
	if err != nil {
		t.Fatalf("list filters: %v", err)
	}
	for _, f := range filters {
		if bf, ok := f.(*netlink.BpfFilter); ok && bf.Name == want.Name && bf.Priority == want.Priority {
			return true
		}
	}
	return false
}
