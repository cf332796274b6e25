package replay

import (
	"bytes"
	"context"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	mdns "github.com/miekg/dns"

	"github.com/foveanet/fovea/bpf"
	"github.com/foveanet/fovea/model/record"
)

func TestNewRejects(t *testing.T) {
	pods := []netip.Addr{netip.MustParseAddr("10.2.0.1")}
	for _, cfg := range []Config{{Rate: 0, Pods: pods, QueueRecords: 1024}, {Rate: 1, QueueRecords: 1024}, {Rate: 1, Pods: pods, QueueRecords: 1}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}

// TestSlowConsumerLosesAndReports: a consumer slower than the rate loses
// records without slowing the producer, every record is emitted or lost or
// queued, and the losses reach the consumer as a LostEvent record.
func TestSlowConsumerLosesAndReports(t *testing.T) {
	src, err := New(Config{Rate: 100e3, Pods: []netip.Addr{netip.MustParseAddr("10.2.0.1"), netip.MustParseAddr("fd00::1")}, QueueRecords: 256})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var reported atomic.Uint64
	var seen uint64
	var v6 bool
	done := make(chan error, 1)
	go func() {
		done <- src.Run(ctx, func(r *record.Record) {
			if r.Kind == record.KindLost {
				if r.LostSource != uint8(flowpb.LostEventSource_PERF_EVENT_RING_BUFFER) {
					t.Errorf("lost source %d", r.LostSource)
				}
				reported.Add(uint64(r.Count))
				return
			}
			seen++
			v6 = v6 || r.Flags&record.FlagIPv6 != 0
			time.Sleep(20 * time.Microsecond) // at most 50k a second
		})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for reported.Load() == 0 || src.Counts().Produced < 100e3 {
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	n := src.Counts()
	if r := reported.Load(); n.Lost == 0 || r == 0 || r > n.Lost {
		t.Fatalf("counts %+v, reported lost %d", n, r)
	}
	if n.Emitted != seen || n.Produced < n.Emitted+n.Lost || n.Produced-n.Emitted-n.Lost > uint64(MaxHeld(256)) {
		t.Fatalf("counts %+v, %d emitted: records unaccounted", n, seen)
	}
	if !v6 {
		t.Fatal("no IPv6 record")
	}
}

// l7Recorder keeps the snippets it is handed.
type l7Recorder struct {
	pkts  []record.Record
	snips [][]byte
}

func (l *l7Recorder) Parse(pkt *record.Record, s bpf.Snippet, _ func(*record.Record)) {
	l.pkts = append(l.pkts, *pkt)
	l.snips = append(l.snips, bytes.Clone(s.Payload))
}

// TestDNSResponses: with DNSEvery, that share of the records are DNS
// responses from the cluster DNS to a pod, each handed to the parser with a
// response that answers, under a name of its second, the address the pod's
// own flows go to.
func TestDNSResponses(t *testing.T) {
	pods := []netip.Addr{netip.MustParseAddr("10.2.0.1"), netip.MustParseAddr("10.2.0.2"), netip.MustParseAddr("fd00::3")}
	if _, err := New(Config{Rate: 1, Pods: pods, QueueRecords: 1024, DNSEvery: 10}); err == nil {
		t.Fatal("DNSEvery without a parser accepted")
	}
	l7 := &l7Recorder{}
	src, err := New(Config{Rate: 1000, Pods: pods, QueueRecords: 1024, DNSEvery: 10, L7: l7})
	if err != nil {
		t.Fatal(err)
	}
	batch := src.fill(nil, 0, 100, time.Now().UnixNano())
	var dns int
	for i := range batch {
		r := &batch[i]
		if !isDNS(r) {
			continue
		}
		dns++
		src.parseDNS(r, func(*record.Record) {})
	}
	if dns != 10 || len(l7.snips) != 10 {
		t.Fatalf("%d DNS records of 100, %d parsed: want 10 of each", dns, len(l7.snips))
	}
	for i, payload := range l7.snips {
		pkt := &l7.pkts[i]
		var m mdns.Msg
		if err := m.Unpack(payload); err != nil {
			t.Fatalf("payload %d: %v", i, err)
		}
		client := addrOf(pkt.Dst, pkt.Flags)
		want := pods[(slices.Index(pods, client)*7+1)%len(pods)]
		if !m.Response || len(m.Question) != 1 || len(m.Answer) != 1 || !strings.HasSuffix(m.Question[0].Name, ".soak.test.") {
			t.Fatalf("payload %d: %v", i, &m)
		}
		var got netip.Addr
		switch rr := m.Answer[0].(type) {
		case *mdns.A:
			got, _ = netip.AddrFromSlice(rr.A.To4())
		case *mdns.AAAA:
			got, _ = netip.AddrFromSlice(rr.AAAA)
		}
		if got != want || pkt.SrcPort != 53 || pkt.Proto != record.ProtoUDP || pkt.Verdict != uint8(flowpb.Verdict_FORWARDED) {
			t.Errorf("response %d to %v (from port %d): answers %v, want %v", i, client, pkt.SrcPort, got, want)
		}
		if server := addrOf(pkt.Src, pkt.Flags); server.Is4() != client.Is4() {
			t.Errorf("response %d: server %v to client %v", i, server, client)
		}
	}
}

func addrOf(b [16]byte, f record.Flags) netip.Addr {
	if f&record.FlagIPv6 != 0 {
		return netip.AddrFrom16(b)
	}
	return netip.AddrFrom4([4]byte(b[:4]))
}
