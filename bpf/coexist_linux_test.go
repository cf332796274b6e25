//go:build linux

package bpf

import (
	"errors"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/foveanet/fovea/model/record"
)

// foreignDropPort is the TCP port the other owner's program drops.
const foreignDropPort = 7100

// foreignDropProgram is a tc program of another owner, as a CNI's policy
// program would be: it drops IPv4 TCP segments to foreignDropPort (with a
// 20-byte IP header) and passes everything else on.
func foreignDropProgram(t *testing.T) *ebpf.Program {
	t.Helper()
	const (
		skbData    = 76 // offsetof(struct __sk_buff, data)
		skbDataEnd = 80
		tcActShot  = 2
		tcxNext    = -1
	)
	portBE := int32(foreignDropPort>>8 | foreignDropPort&0xff<<8) // as a little-endian load of the port reads it
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:    ebpf.SchedCLS,
		License: "MIT",
		Instructions: asm.Instructions{
			asm.LoadMem(asm.R2, asm.R1, skbData, asm.Word),
			asm.LoadMem(asm.R3, asm.R1, skbDataEnd, asm.Word),
			asm.Mov.Reg(asm.R4, asm.R2),
			asm.Add.Imm(asm.R4, 14+20+4),
			asm.JGT.Reg(asm.R4, asm.R3, "pass"),
			asm.LoadMem(asm.R5, asm.R2, 12, asm.Half),
			asm.JNE.Imm(asm.R5, 0x0008, "pass"), // ETH_P_IP in network order
			asm.LoadMem(asm.R5, asm.R2, 14+9, asm.Byte),
			asm.JNE.Imm(asm.R5, 6, "pass"),
			asm.LoadMem(asm.R5, asm.R2, 14+20+2, asm.Half),
			asm.JNE.Imm(asm.R5, portBE, "pass"),
			asm.Mov.Imm(asm.R0, tcActShot),
			asm.Return(),
			asm.Mov.Imm(asm.R0, tcxNext).WithSymbol("pass"),
			asm.Return(),
		},
	})
	if err != nil {
		t.Fatalf("load foreign program: %v", err)
	}
	t.Cleanup(func() { _ = prog.Close() })
	return prog
}

// testCoexistence runs the source beside another owner's programs on the
// same interface, as on a node whose CNI has its own: a tcx program that
// drops one port and a legacy tc filter at priority 1. Attached, detached
// and attached again, the source keeps the others attached and in their
// order, leaves forwarding as it was, and reports what the other program
// drops.
func testCoexistence(t *testing.T) {
	host, err := netlink.LinkByName(hostIf)
	if err != nil {
		t.Fatalf("find %s: %v", hostIf, err)
	}
	index := host.Attrs().Index
	drop := foreignDropProgram(t)
	dropLink, err := link.AttachTCX(link.TCXOptions{Interface: index, Program: drop, Attach: ebpf.AttachTCXEgress, Anchor: link.Head()})
	if err != nil {
		t.Fatalf("attach foreign tcx program: %v", err)
	}
	defer dropLink.Close()
	pass := newTestSource(t, Config{}).objs.CaptureIngress // any program that passes packets on
	legacy, err := attachLegacyFilter(index, pass)
	if err != nil {
		t.Fatalf("add foreign tc filter: %v", err)
	}
	defer func() { _ = netlink.FilterDel(legacy) }()
	dropInfo, err := drop.Info()
	if err != nil {
		t.Fatal(err)
	}
	dropID, _ := dropInfo.ID()

	forwarding := func(when string) {
		t.Helper()
		c, err := net.DialTimeout("tcp", net.JoinHostPort(podIPv4, "8080"), 5*time.Second)
		if err != nil {
			t.Fatalf("%s: dial the pod's open port: %v", when, err)
		}
		_ = c.Close()
		_, err = net.DialTimeout("tcp", net.JoinHostPort(podIPv4, "7100"), 300*time.Millisecond)
		if ne, ok := errors.AsType[net.Error](err); !ok || !ne.Timeout() {
			t.Fatalf("%s: dial the port the foreign program drops: %v, want a timeout", when, err)
		}
	}
	others := func(when string) {
		t.Helper()
		if ids := tcxIDs(t, index, ebpf.AttachTCXEgress); !slices.Contains(ids, dropID) {
			t.Fatalf("%s: foreign tcx program %d gone from egress %v", when, dropID, ids)
		}
		if !hasFilter(t, host, legacy) {
			t.Fatalf("%s: foreign tc filter gone", when)
		}
	}

	forwarding("before the source")
	for round := range 2 {
		c := startCapture(t, Config{Interfaces: []string{hostIf}})
		c.waitHook(t, hostIf+":true", 5*time.Second)
		info, err := c.src.objs.CaptureEgress.Info()
		if err != nil {
			t.Fatal(err)
		}
		ours, _ := info.ID()
		if ids := tcxIDs(t, index, ebpf.AttachTCXEgress); len(ids) != 2 || ids[0] != ours || ids[1] != dropID {
			t.Errorf("round %d: egress programs %v, want ours (%d) before the foreign one (%d)", round, ids, ours, dropID)
		}
		others("attached")
		forwarding("attached")
		pod4 := netip.MustParseAddr(podIPv4)
		c.waitRecord(t, "the dropped SYN, seen", func(r *record.Record) bool {
			return r.Kind == record.KindTrace && r.DstAddr() == pod4 && r.DstPort == foreignDropPort &&
				flowpb.TraceObservationPoint(r.ObsPoint) == flowpb.TraceObservationPoint_TO_ENDPOINT
		})
		d := c.waitRecord(t, "the dropped SYN, dropped", func(r *record.Record) bool {
			return r.Kind == record.KindDrop && r.DstAddr() == pod4 && r.DstPort == foreignDropPort
		})
		if names := c.tables.Names.Get(d.Ext); len(names) != 1 || names[0] != "TC_EGRESS" {
			t.Errorf("round %d: drop reason %v, want TC_EGRESS", round, names)
		}
		c.stop(t)
		others("detached")
		if ids := tcxIDs(t, index, ebpf.AttachTCXEgress); len(ids) != 1 {
			t.Errorf("round %d: egress programs %v after the source stopped, want the foreign one alone", round, ids)
		}
		forwarding("detached")
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
