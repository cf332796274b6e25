//go:build linux

package bpf

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// slotsOn returns the valid aggregation slots of cpu.
func slotsOn(t *testing.T, s *Source, cpu int) []captureAggSlot {
	t.Helper()
	var out []captureAggSlot
	var perCPU []captureAggSlot
	for i := range uint32(s.objs.AggSlots.MaxEntries()) {
		if err := s.objs.AggSlots.Lookup(i, &perCPU); err != nil {
			t.Fatalf("look up agg_slots[%d]: %v", i, err)
		}
		if perCPU[cpu].Kind != 0 {
			out = append(out, perCPU[cpu])
		}
	}
	return out
}

// slotFamilies are the frames of one UDP connection in each family.
var slotFamilies = []struct {
	name  string
	frame func(src, dst string, sport, dport uint16) []byte
}{
	{"ipv4", func(src, dst string, sport, dport uint16) []byte {
		return ethFrame(0x0800, ipv4Packet(src, dst, 17, udpDatagram(sport, dport)))
	}},
	{"ipv6", func(src, dst string, sport, dport uint16) []byte {
		return ethFrame(0x86dd, ipv6Packet("fd30::"+src, "fd30::"+dst, 17, udpDatagram(sport, dport)))
	}},
}

// TestAggregationSlotsCountExactly follows one UDP connection across the
// per-CPU slots: the first absorbed packet takes the CPU's slot, the next
// ones count there, and a report carries what its CPU's slot counted; a
// report on one CPU leaves another CPU's slot for that CPU's next report.
func TestAggregationSlotsCountExactly(t *testing.T) {
	for _, fam := range slotFamilies {
		t.Run(fam.name, func(t *testing.T) {
			testSlotsCountExactly(t, fam.frame("10.30.0.1", "10.30.0.2", 40000, 9000))
		})
	}
}

func testSlotsCountExactly(t *testing.T, frame []byte) {
	const interval = time.Second
	if runtime.NumCPU() < 2 {
		t.Skipf("needs two CPUs; this machine has %d", runtime.NumCPU())
	}
	s := newTestSource(t, Config{AggregationInterval: interval})
	steps := []struct {
		name    string
		cpu     int
		wait    bool // past the interval first
		packets uint32
	}{
		{"first", 0, false, 1},
		{"2: absorbed, takes the slot", 0, false, 0},
		{"3: in the slot", 0, false, 0},
		{"4: in the slot", 0, false, 0},
		{"5: due, with the slot's", 0, true, 4},
		{"6: absorbed, takes the slot again", 0, false, 0},
		{"7: absorbed on another CPU, takes its slot", 1, false, 0},
		{"8: in that CPU's slot", 1, false, 0},
		{"9: in the first CPU's slot", 0, false, 0},
		{"10: due, with its own CPU's slot", 0, true, 4},
		{"11: hands the other CPU's slot to the entry", 1, false, 0},
		{"12: due, with what 11 handed over", 1, true, 3},
	}
	for _, st := range steps {
		if st.wait {
			time.Sleep(interval + 100*time.Millisecond)
		}
		var evs []KernelEvent
		onCPUWhile(t, st.cpu, func() {
			runProg(t, s.objs.CaptureIngress, frame)
			evs = drainEvents(t, s)
		})
		switch {
		case st.packets == 0 && len(evs) != 0:
			t.Fatalf("%s: %d events, want the packet counted silently", st.name, len(evs))
		case st.packets != 0 && len(evs) != 1:
			t.Fatalf("%s: %d events, want 1", st.name, len(evs))
		case st.packets != 0 && (evs[0].Packets != st.packets || evs[0].Len != st.packets*uint32(len(frame))):
			t.Fatalf("%s: report of %d packets, %d bytes; want %d, %d",
				st.name, evs[0].Packets, evs[0].Len, st.packets, st.packets*uint32(len(frame)))
		}
		if st.name == "4: in the slot" {
			// 3 and 4 went past the event path: the slot holds them.
			slots := slotsOn(t, s, 0)
			if len(slots) != 1 || slots[0].Pending>>32 != 2 || uint32(slots[0].Pending) != 2*uint32(len(frame)) {
				t.Fatalf("CPU 0's slots %+v, want one holding 2 packets", slots)
			}
		}
	}
}

// TestAggregationSlotEvictionKeepsCounts runs more UDP connections
// through one CPU than it has slots, so connections take each other's
// slots with counts in them: each connection's report must still stand
// for every packet it absorbed.
func TestAggregationSlotEvictionKeepsCounts(t *testing.T) {
	for _, fam := range slotFamilies {
		t.Run(fam.name, func(t *testing.T) {
			testSlotEvictionKeepsCounts(t, func(i int) []byte {
				return fam.frame(fmt.Sprintf("10.31.%d.%d", i>>8, i&0xff), "10.32.0.1", uint16(20000+i), 53000)
			})
		})
	}
}

func testSlotEvictionKeepsCounts(t *testing.T, frame func(i int) []byte) {
	const interval = time.Second
	s := newTestSource(t, Config{AggregationInterval: interval})
	conns := 3 * int(s.objs.AggSlots.MaxEntries())
	// Each connection: a report, one packet absorbed through the
	// shared entry (taking the slot), one counted where the slot is.
	onCPUWhile(t, 0, func() {
		for i := range conns {
			for range 3 {
				runProg(t, s.objs.CaptureIngress, frame(i))
			}
		}
	})
	if evs := drainEvents(t, s); len(evs) != conns {
		t.Fatalf("%d reports, want one per connection (%d)", len(evs), conns)
	}
	if n := len(slotsOn(t, s, 0)); n >= conns {
		t.Fatalf("%d slots held, want fewer than the %d connections", n, conns)
	}
	time.Sleep(interval + 100*time.Millisecond)
	onCPUWhile(t, 0, func() {
		for i := range conns {
			runProg(t, s.objs.CaptureIngress, frame(i))
		}
	})
	evs := drainEvents(t, s)
	if len(evs) != conns {
		t.Fatalf("%d reports after the interval, want %d", len(evs), conns)
	}
	for _, ev := range evs {
		if ev.Packets != 3 {
			t.Fatalf("report from port %d stands for %d packets, want 3", ev.SrcPort, ev.Packets)
		}
	}
}
