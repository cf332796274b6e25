//go:build linux

package bpf

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/foveanet/fovea/model/record"
)

// testForwardCounters sends a known number of UDP round trips through the
// captured veth and checks that the node counters count every packet and
// byte while aggregation reports the connection only once per direction.
func testForwardCounters(t *testing.T) {
	c := startCapture(t, Config{Interfaces: []string{hostIf}})
	c.waitHook(t, hostIf+":true", 5*time.Second)

	conn, err := net.Dial("udp", net.JoinHostPort(podIPv4, "5353"))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	// One round trip first, so both directions' entries exist.
	const payload = 100
	roundTrip := func() {
		t.Helper()
		_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
		if _, err := conn.Write(make([]byte, payload)); err != nil {
			t.Fatalf("write: %v", err)
		}
		if _, err := conn.Read(make([]byte, 2*payload)); err != nil {
			t.Fatalf("echo: %v", err)
		}
	}
	roundTrip()
	before := forwardCounts(t, c.src)

	const n = 1000
	for range n {
		roundTrip()
	}
	after := forwardCounts(t, c.src)
	const frame = 14 + 20 + 8 + payload
	// Neighbour discovery may add a few packets of its own.
	const slack = 10
	for _, d := range []Direction{Egress, Ingress} {
		got := after[d]
		got.Packets -= before[d].Packets
		got.Bytes -= before[d].Bytes
		if got.Packets < n || got.Packets > n+slack || got.Bytes < n*frame || got.Bytes > n*frame+slack*1500 {
			t.Errorf("%v: counted %d packets, %d bytes; want %d (+%d) packets of %d bytes", d, got.Packets, got.Bytes, n, slack, frame)
		}
	}

	sport := uint16(conn.LocalAddr().(*net.UDPAddr).Port)
	host4, pod4 := netip.MustParseAddr(hostIPv4), netip.MustParseAddr(podIPv4)
	c.waitRecord(t, "the connection's first packet", func(r *record.Record) bool {
		return r.SrcAddr() == host4 && r.DstAddr() == pod4 && r.SrcPort == sport
	})
	time.Sleep(2 * DefaultFlushInterval)
	c.mu.Lock()
	reports := 0
	for _, r := range c.recs {
		if r.Proto == record.ProtoUDP && (r.SrcPort == sport || r.DstPort == sport) {
			reports++
		}
	}
	c.mu.Unlock()
	if reports != 2 {
		t.Errorf("%d reports of %d round trips, want one per direction", reports, n+1)
	}

	// Detaching forgets the interface's counters.
	c.cancel()
	<-c.done
	if c.runErr != nil {
		t.Errorf("Run: %v", c.runErr)
	}
	ifc, err := net.InterfaceByName(hostIf)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []Direction{Ingress, Egress} {
		var perCPU []captureFwdVal
		if err := c.src.objs.ForwardSlots.Lookup(fwdSlot(uint32(ifc.Index), d), &perCPU); err != nil {
			t.Fatalf("look up forward_slots: %v", err)
		}
		if left := sumForward(counted{name: hostIf}, d, perCPU); left.Packets != 0 || left.Bytes != 0 {
			t.Errorf("counters %+v left after detaching", left)
		}
	}
	if err := c.src.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func forwardCounts(t *testing.T, s *Source) map[Direction]ForwardCount {
	t.Helper()
	counts, err := s.ForwardCounts()
	if err != nil {
		t.Fatalf("ForwardCounts: %v", err)
	}
	out := make(map[Direction]ForwardCount)
	for _, fc := range counts {
		if fc.Interface != hostIf {
			t.Errorf("counts for %q, captured only %q", fc.Interface, hostIf)
		}
		if fc.Network {
			t.Errorf("counts %+v of a pod's veth say it faces the network", fc)
		}
		out[fc.Dir] = fc
	}
	return out
}
