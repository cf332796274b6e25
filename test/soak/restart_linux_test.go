//go:build linux

package soak

import (
	"context"
	"fmt"
	"testing"
	"time"

	observerpb "github.com/cilium/cilium/api/v1/observer"
	relaypb "github.com/cilium/cilium/api/v1/relay"
)

// relayEvent is what a client following the relay saw: a flow from a
// node, or a node reported unavailable.
type relayEvent struct {
	node        string
	unavailable bool
}

// followRelay streams what a client of the relay sees until the test ends.
func followRelay(t *testing.T, r *agentProc) <-chan relayEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	stream, err := observerpb.NewObserverClient(r.dial(t)).GetFlows(ctx, &observerpb.GetFlowsRequest{Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan relayEvent, 1024)
	go func() {
		defer close(ch)
		for {
			resp, err := stream.Recv()
			if err != nil {
				return
			}
			var evs []relayEvent
			switch {
			case resp.GetFlow() != nil:
				evs = append(evs, relayEvent{node: resp.GetNodeName()})
			case resp.GetNodeStatus().GetStateChange() == relaypb.NodeState_NODE_UNAVAILABLE:
				for _, n := range resp.GetNodeStatus().GetNodeNames() {
					evs = append(evs, relayEvent{node: n, unavailable: true})
				}
			}
			for _, ev := range evs {
				select {
				case ch <- ev:
				default: // the test reads only until it has what it waits for
				}
			}
		}
	}()
	return ch
}

// waitEvent waits until the stream shows want.
func waitEvent(t *testing.T, ch <-chan relayEvent, want relayEvent, limit time.Duration, what string) {
	t.Helper()
	deadline := time.After(limit)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("stream ended before %s", what)
			}
			if ev == want {
				return
			}
		case <-deadline:
			t.Fatalf("no %s within %v", what, limit)
		}
	}
}

// TestRelayAgentKilled: an agent SIGKILLed under a relay's followers is
// reported NODE_UNAVAILABLE to them, and its flows come back through the
// same streams once it is started again on its address. (Nothing attached
// twice after a SIGKILL is bpf's TestCoexist.../testKilled; a clean stop
// with the real datapath is TestRelay's agent restart.)
func TestRelayAgentKilled(t *testing.T) {
	const agents = 3
	var peers []string
	procs := map[string]*agentProc{}
	for i := range agents {
		name := fmt.Sprintf("node-%d", i)
		a := startAgent(t, agentOpts{name: name, rate: 200, tcp: true})
		procs[name] = a
		peers = append(peers, name+"="+a.tcp)
	}
	r := newProc(t, t.TempDir())
	r.start(t, "relay", []string{"--node-name=soak-relay", "--listen-address=", "--peer-insecure", "--dial-timeout=2s", "--retry-timeout=2s",
		"--peers=" + peers[0] + "," + peers[1] + "," + peers[2]}, nil)
	waitNodes(t, r.dial(t), agents, 0)
	events := followRelay(t, r)
	victim := procs["node-1"]
	// Flows name their node cluster/node; the relay names a static peer
	// as --peers does.
	const node, peer = "default/node-1", "node-1"
	waitEvent(t, events, relayEvent{node: node}, 20*time.Second, "flow from node-1")

	victim.kill(t)
	killed := time.Now()
	waitEvent(t, events, relayEvent{node: peer, unavailable: true}, 20*time.Second, "NODE_UNAVAILABLE for node-1")
	t.Logf("node-1 reported unavailable %v after SIGKILL", time.Since(killed).Round(time.Microsecond))

	restarted := time.Now()
	startAgent(t, agentOpts{name: "node-1", rate: 200, tcp: true, tcpAddr: victim.tcp})
	waitEvent(t, events, relayEvent{node: node}, 30*time.Second, "flow from the restarted node-1")
	t.Logf("flows from node-1 again %v after its restart", time.Since(restarted).Round(time.Millisecond))
	waitNodes(t, r.dial(t), agents, 0)
}
