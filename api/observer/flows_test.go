package observer_test

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	observerpb "github.com/cilium/cilium/api/v1/observer"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/foveanet/fovea/api/observer"
	"github.com/foveanet/fovea/model/record"
)

func TestGetFlowsModes(t *testing.T) {
	e := newEnv(t, 31, nil)
	e.write(10)
	port80 := []*flowpb.FlowFilter{{DestinationPort: []string{"80"}}}
	for _, tc := range []struct {
		name string
		req  *observerpb.GetFlowsRequest
		want []uint32
	}{
		{"all", &observerpb.GetFlowsRequest{}, seqPorts(0, 9)},
		{"last 3", &observerpb.GetFlowsRequest{Number: 3}, seqPorts(7, 9)},
		{"last more than held", &observerpb.GetFlowsRequest{Number: 50}, seqPorts(0, 9)},
		{"first 3", &observerpb.GetFlowsRequest{Number: 3, First: true}, seqPorts(0, 2)},
		{"first all", &observerpb.GetFlowsRequest{First: true}, seqPorts(0, 9)},
		{"last 2 matching", &observerpb.GetFlowsRequest{Number: 2, Whitelist: port80}, []uint32{6, 8}},
		{"first 2 matching", &observerpb.GetFlowsRequest{Number: 2, First: true, Whitelist: port80}, []uint32{0, 2}},
		{"blacklist", &observerpb.GetFlowsRequest{Number: 3, Blacklist: port80}, []uint32{5, 7, 9}},
		{"since", &observerpb.GetFlowsRequest{Since: timestamppb.New(ts(6))}, seqPorts(6, 9)},
		{"since overrides number for the start", &observerpb.GetFlowsRequest{Number: 2, Since: timestamppb.New(ts(3))}, []uint32{3, 4}},
		{"until", &observerpb.GetFlowsRequest{Until: timestamppb.New(ts(3))}, seqPorts(0, 3)},
		{"since and until", &observerpb.GetFlowsRequest{Since: timestamppb.New(ts(2)), Until: timestamppb.New(ts(4))}, seqPorts(2, 4)},
		{"last 2 before until", &observerpb.GetFlowsRequest{Number: 2, Until: timestamppb.New(ts(5))}, []uint32{4, 5}},
		{"since after everything", &observerpb.GetFlowsRequest{Since: timestamppb.New(ts(100))}, nil},
		{"first 3 since", &observerpb.GetFlowsRequest{Number: 3, First: true, Since: timestamppb.New(ts(5))}, seqPorts(5, 7)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.getFlows(tc.req)
			if res.err != nil {
				t.Fatal(res.err)
			}
			if !slices.Equal(res.ports, tc.want) {
				t.Fatalf("got ports %v, want %v", res.ports, tc.want)
			}
			for _, r := range res.resps {
				if r.GetTime() == nil || r.GetNodeName() == "" {
					t.Fatalf("response without time or node name: %v", r)
				}
			}
		})
	}
}

func TestGetFlowsEmptyRing(t *testing.T) {
	e := newEnv(t, 7, nil)
	for _, req := range []*observerpb.GetFlowsRequest{{}, {Number: 20}, {First: true}, {Since: timestamppb.New(base)}} {
		if res := e.getFlows(req); res.err != nil || len(res.resps) != 0 {
			t.Fatalf("%v: got %d responses, err %v", req, len(res.resps), res.err)
		}
	}
}

func TestGetFlowsInvalidArguments(t *testing.T) {
	e := newEnv(t, 7, nil)
	e.write(3)
	for _, tc := range []struct {
		req   *observerpb.GetFlowsRequest
		field string
	}{
		{&observerpb.GetFlowsRequest{First: true, Follow: true}, "first"},
		{&observerpb.GetFlowsRequest{Since: timestamppb.New(ts(5)), Until: timestamppb.New(ts(1))}, "since"},
		{&observerpb.GetFlowsRequest{Since: &timestamppb.Timestamp{Nanos: -1}}, "since"},
		{&observerpb.GetFlowsRequest{Until: &timestamppb.Timestamp{Seconds: 1 << 62}}, "until"},
		{&observerpb.GetFlowsRequest{Whitelist: []*flowpb.FlowFilter{{SourceIp: []string{"x"}}}}, "source_ip"},
		{&observerpb.GetFlowsRequest{Blacklist: []*flowpb.FlowFilter{{DestinationPort: []string{"http"}}}}, "filters"},
		{&observerpb.GetFlowsRequest{FieldMask: &fieldmaskpb.FieldMask{Paths: []string{"source.bogus"}}}, "bogus"},
	} {
		res := e.getFlows(tc.req)
		if status.Code(res.err) != codes.InvalidArgument || !strings.Contains(res.err.Error(), tc.field) {
			t.Errorf("%v: got %v, want InvalidArgument naming %s", tc.req, res.err, tc.field)
		}
	}
}

func TestGetFlowsFieldMask(t *testing.T) {
	e := newEnv(t, 7, nil)
	e.write(3)
	res := e.getFlows(&observerpb.GetFlowsRequest{
		Number:    1,
		FieldMask: &fieldmaskpb.FieldMask{Paths: []string{"time", "l4.TCP.source_port"}},
	})
	if res.err != nil || len(res.flows) != 1 {
		t.Fatalf("got %d flows, err %v", len(res.flows), res.err)
	}
	f := res.flows[0]
	if f.GetTime() == nil || f.GetL4().GetTCP().GetSourcePort() != 2 || f.GetIP() != nil || f.GetNodeName() != "" ||
		f.GetL4().GetTCP().GetDestinationPort() != 0 {
		t.Fatalf("masked flow = %v", f)
	}
	if res.resps[0].GetNodeName() == "" || res.resps[0].GetTime() == nil {
		t.Fatal("masking dropped the response's time or node name")
	}

	// The mask hubble observe sends for compact output must be accepted.
	cliMask := []string{
		"time", "verdict", "ethernet", "IP", "l4", "source.identity", "source.namespace", "source.pod_name",
		"destination.identity", "destination.namespace", "destination.pod_name", "Type", "node_name", "l7",
		"event_type", "source_service", "destination_service", "is_reply", "Summary", "ip_trace_id",
		"traffic_direction", "policy_match_type", "ingress_allowed_by", "ingress_denied_by",
		"egress_allowed_by", "egress_denied_by",
	}
	res = e.getFlows(&observerpb.GetFlowsRequest{Number: 2, FieldMask: &fieldmaskpb.FieldMask{Paths: cliMask}})
	if res.err != nil || len(res.flows) != 2 || res.flows[0].GetSummary() == "" {
		t.Fatalf("CLI mask: %d flows, err %v", len(res.flows), res.err)
	}
}

func TestGetFlowsUpstreamLostEvents(t *testing.T) {
	e := newEnv(t, 15, nil)
	e.write(2)
	e.writeLost(7)
	e.write(2)
	res := e.getFlows(&observerpb.GetFlowsRequest{Number: 3, Whitelist: []*flowpb.FlowFilter{{DestinationPort: []string{"443"}}}})
	if res.err != nil {
		t.Fatal(res.err)
	}
	// Ports 1 and 3 are the matching flows (the notice took index 2); the lost notice passes the
	// filter and does not count towards number.
	if !slices.Equal(res.ports, []uint32{1, 3}) || len(res.lost) != 1 {
		t.Fatalf("ports %v, lost %v", res.ports, res.lost)
	}
	l := res.lost[0]
	if l.GetNumEventsLost() != 7 || l.GetSource() != flowpb.LostEventSource_PERF_EVENT_RING_BUFFER {
		t.Fatalf("lost event = %v", l)
	}
	if res.resps[1].GetLostEvents() == nil || !res.resps[1].GetTime().AsTime().Equal(ts(2)) {
		t.Fatalf("lost event out of order or mistimed: %v", res.resps)
	}
}

// overtakingRing lets the test play the writer overtaking a reader: when
// the stream reads on from seq-1 to a chosen seq, more records are written
// first. Searches and backward scans, which read in other orders, never
// trigger it.
type overtakingRing struct {
	observer.Ring
	e     **env // set once newEnv returns, before any read
	at    map[uint64]int
	last  uint64
	fired map[uint64]bool
}

func newOvertakingRing(e **env, at map[uint64]int) func(observer.Ring) observer.Ring {
	return func(r observer.Ring) observer.Ring {
		return &overtakingRing{Ring: r, e: e, at: at, last: math.MaxUint64, fired: map[uint64]bool{}}
	}
}

func (r *overtakingRing) Read(seq uint64, dst *record.Record) error {
	if n, ok := r.at[seq]; ok && r.last == seq-1 && !r.fired[seq] {
		r.fired[seq] = true
		(*r.e).write(n)
	}
	r.last = seq
	return r.Ring.Read(seq, dst)
}

func TestGetFlowsRingOverwriteIsReportedOnce(t *testing.T) {
	var e *env
	e = newEnv(t, 7, newOvertakingRing(&e, map[uint64]int{2: 10}))
	e.write(7)
	res := e.getFlows(&observerpb.GetFlowsRequest{First: true})
	if res.err != nil {
		t.Fatal(res.err)
	}
	// Seqs 0 and 1 were read; the writer then reached 17, leaving 10..16,
	// so 2..9 were lost; the stream ends at the head it started with.
	if !slices.Equal(res.ports, []uint32{0, 1}) || len(res.lost) != 1 {
		t.Fatalf("ports %v, lost %v", res.ports, res.lost)
	}
	l := res.lost[0]
	if l.GetSource() != flowpb.LostEventSource_HUBBLE_RING_BUFFER || l.GetNumEventsLost() != 8 ||
		l.GetFirst() == nil || l.GetLast() == nil {
		t.Fatalf("lost event = %v", l)
	}
	const want = `# HELP observer_stream_lost_events_total Events GetFlows streams skipped because the ring overwrote them before they were read (sent to clients as HUBBLE_RING_BUFFER LostEvents).
# TYPE observer_stream_lost_events_total counter
observer_stream_lost_events_total 8
`
	if err := testutil.CollectAndCompare(e.srv.Collector(), strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	if n := e.srv.StreamLostEvents(); n != 8 {
		t.Fatalf("StreamLostEvents() = %d, want 8", n)
	}
}

func TestGetFlowsFollowAggregatesRingOverwrites(t *testing.T) {
	var e *env
	e = newEnv(t, 7, newOvertakingRing(&e, map[uint64]int{2: 10, 12: 10}),
		observer.WithLostEventInterval(200*time.Millisecond))
	e.write(7)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stream, err := e.client.GetFlows(ctx, &observerpb.GetFlowsRequest{Follow: true, Since: timestamppb.New(base)})
	if err != nil {
		t.Fatal(err)
	}
	var res streamResult
	for len(res.lost) == 0 {
		resp, err := stream.Recv()
		if err != nil {
			t.Fatalf("after %v: %v", res.ports, err)
		}
		res.add(resp)
	}
	// 2..9 and 12..19 were overwritten (8 + 8), reported together once the
	// interval passed, after every flow that was still readable.
	want := append(append([]uint32{0, 1}, 10, 11), seqPorts(20, 26)...)
	if !slices.Equal(res.ports, want) {
		t.Fatalf("ports %v, want %v", res.ports, want)
	}
	if n := res.lost[0].GetNumEventsLost(); n != 16 {
		t.Fatalf("lost %d, want 16", n)
	}
}

func TestGetFlowsFollow(t *testing.T) {
	for _, tc := range []struct {
		name    string
		number  uint64
		wantOld []uint32
	}{
		{"new flows only", 0, nil},
		{"last 2 then new", 2, []uint32{8, 9}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, 63, nil)
			e.write(10)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			stream, err := e.client.GetFlows(ctx, &observerpb.GetFlowsRequest{Follow: true, Number: tc.number})
			if err != nil {
				t.Fatal(err)
			}
			got := make(chan uint32, 64)
			go func() {
				defer close(got)
				for {
					resp, err := stream.Recv()
					if err != nil {
						return
					}
					got <- resp.GetFlow().GetL4().GetTCP().GetSourcePort()
				}
			}()
			var ports []uint32
			for len(ports) < len(tc.wantOld) {
				ports = append(ports, <-got)
			}
			if !slices.Equal(ports, tc.wantOld) {
				t.Fatalf("old flows %v, want %v", ports, tc.wantOld)
			}
			// The stream may not have reached the ring yet: keep writing
			// until a new flow arrives; every flow after that must follow
			// in order with none skipped.
			var first uint32
		wait:
			for {
				e.write(1)
				select {
				case first = <-got:
					break wait
				case <-time.After(20 * time.Millisecond):
				}
			}
			if first < 10 {
				t.Fatalf("follow sent old flow %d", first)
			}
			e.write(3)
			last := uint32(e.next - 1)
			for p := first + 1; p <= last; p++ {
				if g := <-got; g != p {
					t.Fatalf("got flow %d, want %d", g, p)
				}
			}
			cancel()
			for range got {
			}
		})
	}
}

func TestGetFlowsFollowEndsAfterUntil(t *testing.T) {
	e := newEnv(t, 15, nil)
	e.write(3)
	// Every record is older than until, and until has passed: the stream
	// must end rather than wait for flows that can no longer match.
	res := e.getFlows(&observerpb.GetFlowsRequest{Follow: true, Number: 2, Until: timestamppb.New(ts(5))})
	if res.err != nil || !slices.Equal(res.ports, []uint32{1, 2}) {
		t.Fatalf("ports %v, err %v", res.ports, res.err)
	}
	e.write(5)
	res = e.getFlows(&observerpb.GetFlowsRequest{Follow: true, Since: timestamppb.New(ts(4)), Until: timestamppb.New(ts(6))})
	if res.err != nil || !slices.Equal(res.ports, []uint32{4, 5, 6}) {
		t.Fatalf("ports %v, err %v", res.ports, res.err)
	}
}
