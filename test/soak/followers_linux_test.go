//go:build linux

package soak

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	observerpb "github.com/cilium/cilium/api/v1/observer"
	relaypb "github.com/cilium/cilium/api/v1/relay"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// follower is one GetFlows client of TestFollowers.
type follower struct {
	name   string
	filter []*flowpb.FlowFilter
	// delay is how long the client takes over each response: a slow
	// consumer. stall is how long it stops reading after its first
	// response, as a paused terminal does, reading at full speed after.
	delay, stall time.Duration

	flows, lost uint64
	// down are the nodes a relay reported unavailable or in error.
	down map[string]bool
	err  error
}

// mixedFollowers are fast clients with the filters users run (an address,
// a pod, a port, a verdict, a label; the first four none) and slow ones
// reading every flow, taking delay over each or stalling once for stall.
func mixedFollowers(fast, slow, pods int, delay, stall time.Duration) []*follower {
	var out []*follower
	for i := range fast {
		f := &follower{}
		pod := i % pods
		switch {
		case i < 4:
			f.name = "all"
		case i%5 == 0:
			f.name, f.filter = "source-ip", []*flowpb.FlowFilter{{SourceIp: []string{podAddrs(pods)[pod].String()}}}
		case i%5 == 1:
			f.name, f.filter = "source-pod", []*flowpb.FlowFilter{{SourcePod: []string{"soak/" + podName(pod)}}}
		case i%5 == 2:
			f.name, f.filter = "port", []*flowpb.FlowFilter{{DestinationPort: []string{"443"}}}
		case i%5 == 3:
			f.name, f.filter = "verdict", []*flowpb.FlowFilter{{Verdict: []flowpb.Verdict{flowpb.Verdict_DROPPED}}}
		default:
			f.name, f.filter = "label", []*flowpb.FlowFilter{{SourceLabel: []string{fmt.Sprintf("k8s:app=app-%d", pod%5)}}}
		}
		out = append(out, f)
	}
	for range slow {
		name := "slow"
		if stall > 0 {
			name = "stalled"
		}
		out = append(out, &follower{name: name, delay: delay, stall: stall})
	}
	return out
}

func (f *follower) slow() bool { return f.delay > 0 || f.stall > 0 }

// follow reads flows until ctx ends, counting flows and the events
// LostEvents say it missed.
func (f *follower) follow(ctx context.Context, conn *grpc.ClientConn) {
	stream, err := observerpb.NewObserverClient(conn).GetFlows(ctx, &observerpb.GetFlowsRequest{Follow: true, Whitelist: f.filter})
	if err != nil {
		f.err = err
		return
	}
	// Responses already received are delivered after ctx ends: stop
	// reading then, or a slow client would take its backlog's time.
	stalled := false
	for ctx.Err() == nil {
		resp, err := stream.Recv()
		if err != nil {
			if ctx.Err() == nil {
				f.err = err
			}
			return
		}
		switch {
		case resp.GetFlow() != nil:
			f.flows++
		case resp.GetLostEvents() != nil:
			f.lost += resp.GetLostEvents().GetNumEventsLost()
		case resp.GetNodeStatus() != nil:
			st := resp.GetNodeStatus()
			if st.GetStateChange() == relaypb.NodeState_NODE_UNAVAILABLE || st.GetStateChange() == relaypb.NodeState_NODE_ERROR {
				if f.down == nil {
					f.down = make(map[string]bool)
				}
				for _, n := range st.GetNodeNames() {
					f.down[n] = true
				}
			}
		}
		if f.delay > 0 {
			time.Sleep(f.delay) // the slow consumer
		}
		if f.stall > 0 && !stalled {
			time.Sleep(f.stall)
			stalled = true
		}
	}
}

// runFollowers runs fs against target for d, each on a connection of its
// own as separate clients would, and returns when they have all stopped.
// A slow follower's connection buffers 64 KiB rather than what gRPC's
// window estimation grows to (megabytes), so it is overtaken within
// seconds, not minutes.
func runFollowers(t *testing.T, target string, fs []*follower, d time.Duration) {
	t.Helper()
	conns := make([]*grpc.ClientConn, len(fs))
	for i, f := range fs {
		opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
		if f.slow() {
			opts = append(opts, grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(64<<10))
		}
		conn, err := grpc.NewClient(target, opts...)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conns[i] = conn
	}
	// Cancelled rather than given a deadline: gRPC would fail calls on
	// its own timer before ctx reports the end.
	ctx, cancel := context.WithCancel(context.Background())
	defer time.AfterFunc(d, cancel).Stop()
	defer cancel()
	var wg sync.WaitGroup
	for i, f := range fs {
		wg.Go(func() { f.follow(ctx, conns[i]) })
	}
	wg.Wait()
}

// TestFollowers: 100 clients follow the agent's flows with mixed filters;
// the slow ones are overtaken and told so with LostEvents, the fast ones
// lose nothing, and the writer never waits for any of them.
func TestFollowers(t *testing.T) {
	const rate, pods = 2000, 50
	window := 15 * time.Second
	if long(t) {
		window = 2 * time.Minute
	}
	// 16383 records are 8 s at this rate: a fast client may lag that much
	// on a busy machine and lose nothing. Ten slow clients read 50 flows a
	// second, overtaken within 9 s, and read the LostEvent after what
	// their connection had buffered; ten stop reading for 10 s, then read
	// at full speed.
	a := startAgent(t, agentOpts{rate: rate, pods: pods, ringCapacity: 16383})
	fs := mixedFollowers(80, 10, pods, 20*time.Millisecond, 0)
	fs = append(fs, mixedFollowers(0, 10, pods, 0, 10*time.Second)...)
	m0, p0 := a.scrape(t), a.stats(t)
	runFollowers(t, "unix://"+a.socket, fs, window)
	m1, p1 := a.scrape(t), a.stats(t)
	checkFollowers(t, fs)
	produced := m1["fovea_replay_records_produced_total"] - m0["fovea_replay_records_produced_total"]
	if lost := m1["fovea_replay_records_lost_total"]; lost != 0 {
		t.Errorf("the writer fell behind: the source lost %.0f records", lost)
	}
	var seen uint64
	for _, f := range fs {
		seen += f.lost
	}
	// Each stream's last loss may not have been told before it closed.
	if counted := m1["fovea_observer_stream_lost_events_total"] - m0["fovea_observer_stream_lost_events_total"]; counted < float64(seen) {
		t.Errorf("clients were told of %d lost events, the metric counts %.0f", seen, counted)
	}
	t.Logf("%.0f records at %d/s to %d followers: agent %.2f cores, RSS %.0f MiB", produced, rate, len(fs), cores(p0, p1), float64(p1.rssBytes)/(1<<20))
}

// checkFollowers fails the test unless every fast follower saw flows and
// lost none, and every slow one was told it lost events.
func checkFollowers(t *testing.T, fs []*follower) {
	t.Helper()
	byKind := map[string][2]uint64{}
	for i, f := range fs {
		if f.err != nil {
			t.Errorf("follower %d (%s): %v", i, f.name, f.err)
			continue
		}
		switch {
		case f.slow() && f.lost == 0:
			t.Errorf("slow follower %d read %d flows and was told of no loss", i, f.flows)
		case !f.slow() && f.lost > 0:
			t.Errorf("fast follower %d (%s) lost %d events", i, f.name, f.lost)
		case f.flows == 0:
			t.Errorf("follower %d (%s) read no flow", i, f.name)
		}
		k := byKind[f.name]
		byKind[f.name] = [2]uint64{k[0] + f.flows, k[1] + f.lost}
	}
	for name, k := range byKind {
		t.Logf("%-10s followers: %d flows, %d lost", name, k[0], k[1])
	}
}
