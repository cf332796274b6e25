//go:build linux

package bpf

import (
	"errors"
	"log/slog"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/ringbuf"
	"golang.org/x/sys/unix"

	"github.com/foveanet/fovea/model/intern"
)

// requireRoot skips tests that need to load eBPF programs. Everything past
// it must fail, not skip, when the kernel lacks a feature.
func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to load eBPF programs and create network namespaces")
	}
}

func newTestSource(t testing.TB, cfg Config, opts ...Option) *Source {
	t.Helper()
	requireRoot(t)
	s, err := NewSource(cfg, slog.New(slog.DiscardHandler), intern.NewTables(), opts...)
	if err != nil {
		t.Fatalf("NewSource: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// passVerdict is TCX_NEXT and TC_ACT_UNSPEC (-1) as BPF_PROG_TEST_RUN
// reports it.
const passVerdict = ^uint32(0)

func runProg(t testing.TB, prog *ebpf.Program, frame []byte) {
	t.Helper()
	ret, err := prog.Run(&ebpf.RunOptions{Data: frame})
	if err != nil {
		t.Fatalf("BPF_PROG_TEST_RUN: %v", err)
	}
	if ret != passVerdict {
		t.Fatalf("program returned %d, want -1 (never change packet fate)", int32(ret))
	}
}

// drainEvents returns every event pending in the source's ring.
func drainEvents(t testing.TB, s *Source) []KernelEvent {
	t.Helper()
	rd, err := ringbuf.NewReader(s.objs.Events)
	if err != nil {
		t.Fatalf("ringbuf.NewReader: %v", err)
	}
	defer rd.Close()
	rd.SetDeadline(time.Now().Add(20 * time.Millisecond))
	var out []KernelEvent
	for {
		rec, err := rd.Read()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return out
		}
		if err != nil {
			t.Fatalf("read ring: %v", err)
		}
		ev, err := Decode(rec.RawSample)
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		out = append(out, ev)
	}
}

// onCPUWhile runs fn on cpu, its goroutine on a thread of its own and
// that thread on cpu alone for the while: BPF_PROG_TEST_RUN runs a program
// on the caller's CPU, and a veth's hops on the sender's. It reports a
// failed pin with Errorf and runs fn anyway, so a receiver goroutine may
// call it too.
func onCPUWhile(tb testing.TB, cpu int, fn func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var orig, set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &orig); err != nil {
		tb.Errorf("read CPU affinity: %v", err)
	}
	set.Set(cpu)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		tb.Errorf("pin to CPU %d: %v", cpu, err)
	}
	defer func() { _ = unix.SchedSetaffinity(0, &orig) }()
	fn()
}
