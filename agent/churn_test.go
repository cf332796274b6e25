package agent

import (
	"context"
	"fmt"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/foveanet/fovea/agent/dns"
	"github.com/foveanet/fovea/agent/endpoints"
	"github.com/foveanet/fovea/agent/enrich"
	"github.com/foveanet/fovea/agent/sweep"
	"github.com/foveanet/fovea/api/observer"
	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
	"github.com/foveanet/fovea/ringbuffer"
)

// churnRig is an agent pipeline fed by an endpoints index the test rebuilds,
// with the sweeper and holders the agent runs.
type churnRig struct {
	tables  *intern.Tables
	ring    *ringbuffer.Ring[record.Record]
	store   *endpoints.Store
	names   *dns.Names
	p       *pipeline
	sweeper *sweep.Sweeper
}

func newChurnRig(t testing.TB, ringCap int) *churnRig {
	t.Helper()
	c := &churnRig{tables: intern.NewTables(), store: endpoints.NewStore()}
	var err error
	if c.ring, err = ringbuffer.New[record.Record](ringCap); err != nil {
		t.Fatal(err)
	}
	if c.names, err = dns.NewNames(c.tables.Names); err != nil {
		t.Fatal(err)
	}
	pods := enrich.NewEndpoints(c.store)
	c.p = &pipeline{
		ring:       c.ring,
		enrichers:  []Enricher{pods, enrich.NewReserved(c.tables), enrich.NewNames(c.names)},
		namespaces: observer.NewNamespaceTracker(),
		endpoints:  c.tables.Endpoints,
	}
	if c.sweeper, err = sweep.New(c.tables, []intern.Holder{c.p, pods, c.names}); err != nil {
		t.Fatal(err)
	}
	return c
}

func podAddr(i int) netip.Addr     { return netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}) }
func serviceAddr(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 96, byte(i >> 8), byte(i)}) }

// churnPod is generation gen of the pod on slot i: a new pod (and service)
// on the same addresses.
func churnPod(i, gen int) (endpoints.Pod, endpoints.Service) {
	name := fmt.Sprintf("pod-%d", gen)
	return endpoints.Pod{
			Namespace: "churn", Name: name, Labels: map[string]string{"app": name},
			IPs: []netip.Addr{podAddr(i)},
		}, endpoints.Service{
			Namespace: "churn", Name: fmt.Sprintf("svc-%d", gen),
			Frontends: []endpoints.Frontend{{Addr: serviceAddr(i), Port: 80, Proto: record.ProtoTCP}},
		}
}

func heapInUse() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestInternTablesStayBoundedUnderPodChurn replaces 100,000 pods (and their
// services, and DNS names) on the same addresses while traffic flows and
// the sweeper runs: the tables, their storage and the heap stay bounded,
// every record still in the ring resolves to the pod it was written for, and
// new flows carry the current pods.
func TestInternTablesStayBoundedUnderPodChurn(t *testing.T) {
	const (
		slots      = 50    // pods alive at any time
		perStep    = 10    // pods replaced per index rebuild
		steps      = 10000 // 100,000 pods in all
		records    = 10    // records per step
		sweepEvery = 100   // steps between sweeps
		ringCap    = 4095
	)
	c := newChurnRig(t, ringCap)
	pods := make([]endpoints.Pod, slots)
	services := make([]endpoints.Service, slots)
	gen := 0
	replace := func(i int) {
		gen++
		pods[i], services[i] = churnPod(i, gen)
	}
	for i := range slots {
		replace(i)
	}
	// want holds the source pod each record in the ring was written for.
	want := make(map[uint64]string, ringCap+1)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	external := netip.MustParseAddr("192.0.2.1")
	var heapMid uint64
	for step := range steps {
		for j := range perStep {
			replace((step*perStep + j) % slots)
		}
		ix, err := endpoints.Build(c.tables, pods, services)
		if err != nil {
			t.Fatal(err)
		}
		c.store.Replace(ix)
		now := start + int64(step)*int64(time.Second)
		c.names.Add(external, fmt.Sprintf("host-%d.example", step), time.Second, now)
		for k := range records {
			src, dst := (step+k)%slots, (step+3*k+1)%slots
			r := record.Record{Kind: record.KindTrace, Time: now, Proto: record.ProtoTCP, SrcPort: 40000, DstPort: 80}
			switch k % 3 {
			case 0:
				r.SetAddrs(podAddr(src), podAddr(dst))
			case 1:
				r.SetAddrs(podAddr(src), serviceAddr(dst))
			default:
				r.SetAddrs(podAddr(src), external)
			}
			seq := c.p.ring.Head()
			c.p.emit(&r)
			want[seq] = pods[src].Name
			delete(want, seq-ringCap)
		}
		if step%sweepEvery == sweepEvery-1 {
			if _, err := c.sweeper.Sweep(); err != nil {
				t.Fatal(err)
			}
		}
		if step == steps/4 {
			heapMid = heapInUse()
		}
	}
	heapEnd := heapInUse()

	// Referenced: the live pods, those the ring's 4095 records name (410
	// steps of replacements), and those of the last two sweep intervals;
	// names: one list per step in the ring, and those of the last two
	// sweep intervals.
	const maxPods = slots + (ringCap/records+1)*perStep + 3*sweepEvery*perStep
	for _, tab := range []struct {
		name          string
		len, chunks   int
		freed         uint64
		max, minFreed int
	}{
		{"endpoints", c.tables.Endpoints.Len(), c.tables.Endpoints.Chunks(), c.tables.Endpoints.Freed(), maxPods + 2, 100000 - maxPods},
		{"services", c.tables.Services.Len(), c.tables.Services.Chunks(), c.tables.Services.Freed(), maxPods, 100000 - maxPods},
		{"names", c.tables.Names.Len(), c.tables.Names.Chunks(), c.tables.Names.Freed(), ringCap/records + 1 + 3*sweepEvery, 5000},
	} {
		t.Logf("%s: %d held in %d chunks, %d freed", tab.name, tab.len, tab.chunks, tab.freed)
		if tab.len > tab.max || tab.chunks > tab.max/1024+2 || tab.freed < uint64(tab.minFreed) {
			t.Errorf("%s holds %d values in %d chunks after freeing %d; want at most %d values in %d chunks, %d freed",
				tab.name, tab.len, tab.chunks, tab.freed, tab.max, tab.max/1024+2, tab.minFreed)
		}
	}
	t.Logf("heap %d KiB at a quarter, %d KiB at the end", heapMid>>10, heapEnd>>10)
	if heapEnd > heapMid+4<<20 {
		t.Errorf("heap grew from %d KiB to %d KiB over 75,000 pods", heapMid>>10, heapEnd>>10)
	}

	node := flowview.NewNode("n1", "default", "test", nil, c.tables)
	var ev flowview.Flow
	checked := 0
	for seq, r := range c.ring.All() {
		ev.Reset(node, r, seq)
		if got := ev.Flow().GetSource().GetPodName(); got != want[seq] {
			t.Fatalf("record %d names source %q, want %q", seq, got, want[seq])
		}
		checked++
	}
	if checked != ringCap {
		t.Fatalf("checked %d records, want %d", checked, ringCap)
	}
	// A new flow between current pods, through a current service.
	r := record.Record{Kind: record.KindTrace, Time: start + steps*int64(time.Second), Proto: record.ProtoTCP, SrcPort: 40000, DstPort: 80}
	r.SetAddrs(podAddr(7), serviceAddr(8))
	seq := c.ring.Head()
	c.p.emit(&r)
	var got record.Record
	if err := c.ring.Read(seq, &got); err != nil {
		t.Fatal(err)
	}
	ev.Reset(node, &got, seq)
	f := ev.Flow()
	if f.GetSource().GetPodName() != pods[7].Name || f.GetDestinationService().GetName() != services[8].Name {
		t.Fatalf("new flow from %q to service %q, want %q and %q",
			f.GetSource().GetPodName(), f.GetDestinationService().GetName(), pods[7].Name, services[8].Name)
	}
}

// TestSweepRacesWriterAndReaders sweeps continuously while the single writer
// churns pods and emits, and readers follow the ring building flows: a
// flow names the pod its record was written for, or (when the reader
// resolved it after the record left the ring and a sweep freed the pod) no
// pod, never another one.
func TestSweepRacesWriterAndReaders(t *testing.T) {
	const slots, steps = 20, 3000
	c := newChurnRig(t, 255)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var g errgroup.Group
	g.Go(func() error {
		for ctx.Err() == nil {
			if _, err := c.sweeper.Sweep(); err != nil {
				return err
			}
		}
		return nil
	})
	node := flowview.NewNode("n1", "default", "test", nil, c.tables)
	for range 2 {
		g.Go(func() error {
			rd := c.ring.NewReader(0)
			var r record.Record
			var ev flowview.Flow
			for {
				seq, _, err := rd.Next(ctx, &r, true)
				if err != nil {
					return nil
				}
				ev.Reset(node, &r, seq)
				got, want := ev.Flow().GetSource().GetPodName(), fmt.Sprintf("pod-%d", r.Bytes)
				if got != "" && got != want {
					return fmt.Errorf("record %d names source %q, want %q", seq, got, want)
				}
			}
		})
	}
	pods := make([]endpoints.Pod, slots)
	gens := make([]int, slots)
	gen := 0
	for step := range steps {
		i := step % slots
		gen++
		pods[i], _ = churnPod(i, gen)
		gens[i] = gen
		if step < slots {
			continue
		}
		ix, err := endpoints.Build(c.tables, pods, nil)
		if err != nil {
			t.Fatal(err)
		}
		c.store.Replace(ix)
		for k := range 5 {
			src := (step + k) % slots
			r := record.Record{Kind: record.KindTrace, Proto: record.ProtoTCP, Bytes: uint32(gens[src])}
			r.SetAddrs(podAddr(src), podAddr((src+1)%slots))
			c.p.emit(&r)
		}
	}
	cancel()
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if c.tables.Endpoints.Freed() == 0 {
		t.Fatal("no endpoint freed")
	}
}
