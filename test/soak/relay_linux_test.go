//go:build linux

package soak

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	observerpb "github.com/cilium/cilium/api/v1/observer"
	"google.golang.org/grpc"
)

// badPeer is a TCP listener that misbehaves for every connection: silent
// accepts and never answers; otherwise it answers with garbage.
type badPeer struct {
	lis    net.Listener
	silent bool
	mu     sync.Mutex
	conns  []net.Conn
}

func startBadPeer(t *testing.T, silent bool) *badPeer {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &badPeer{lis: lis, silent: silent}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			p.conns = append(p.conns, c)
			p.mu.Unlock()
			if !silent {
				garbage := make([]byte, 4096)
				_, _ = rand.Read(garbage)
				_, _ = c.Write(garbage)
			}
		}
	})
	t.Cleanup(func() {
		lis.Close()
		wg.Wait()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, c := range p.conns {
			c.Close()
		}
	})
	return p
}

// startRelay runs a relay child for peers ("name=host:port").
func startRelay(t *testing.T, peers []string) *agentProc {
	t.Helper()
	r := newProc(t, t.TempDir())
	r.start(t, "relay", []string{
		"--node-name=soak-relay", "--listen-address=", "--peer-insecure", "--dial-timeout=2s",
		"--peers=" + strings.Join(peers, ","),
	}, nil)
	return r
}

// TestRelayFollowers: 16 replay agents and two broken peers, one that
// accepts TCP and never answers and one that answers garbage, behind a
// relay; 100 followers with mixed filters through it. The relay reports the
// broken peers unavailable without delaying anyone, the slow followers are
// told of their losses, the fast ones lose nothing.
func TestRelayFollowers(t *testing.T) {
	// 1023 records are 8 s at this rate: slow followers are overtaken
	// once that and the buffers between agent, relay and client are
	// behind; fast ones may lag that much on a busy machine.
	const agents, rate, pods, ring = 16, 125, 50, 1023
	// Long enough for a stalled follower, once it reads again, to get
	// through what the relay buffered for it (a window from each agent,
	// ~4,000 flows) to the LostEvents, on a busy machine.
	window := 30 * time.Second
	if long(t) {
		window = 2 * time.Minute
	}
	var peers []string
	var procs []*agentProc
	for i := range agents {
		name := fmt.Sprintf("node-%02d", i)
		a := startAgent(t, agentOpts{name: name, rate: rate, pods: pods, ringCapacity: ring, tcp: true})
		procs = append(procs, a)
		peers = append(peers, name+"="+a.tcp)
	}
	silent, garbage := startBadPeer(t, true), startBadPeer(t, false)
	peers = append(peers, "silent="+silent.lis.Addr().String(), "garbage="+garbage.lis.Addr().String())
	r := startRelay(t, peers)
	conn := r.dial(t)
	waitNodes(t, conn, agents, 2)
	measure(t, r, conn, "relay, 2 broken peers", 4*time.Second, func(context.Context) {})

	// Slow followers stop reading for 12 s, past the agents' rings, then
	// read what the relay buffered for them (a gRPC window from each
	// agent) and the agents' LostEvents behind it. Reading slowly
	// throughout, a follower would take minutes to reach them.
	fs := mixedFollowers(80, 20, pods, 0, 12*time.Second)
	r0 := r.stats(t)
	a0 := make([]procStats, len(procs))
	for i, a := range procs {
		a0[i] = a.stats(t)
	}
	runFollowers(t, "unix://"+r.socket, fs, window)
	r1 := r.stats(t)
	var agentCores float64
	for i, a := range procs {
		agentCores += cores(a0[i], a.stats(t))
		if lost := a.scrape(t)["fovea_replay_records_lost_total"]; lost != 0 {
			t.Errorf("agent %d: the writer fell behind: the source lost %.0f records", i, lost)
		}
	}
	checkFollowers(t, fs)
	for i, f := range fs {
		if !f.down["silent"] || !f.down["garbage"] {
			t.Errorf("follower %d (%s) was told of unavailable nodes %v, want silent and garbage", i, f.name, f.down)
		}
	}
	t.Logf("%d agents at %d/s, %d followers through the relay for %v: relay %.2f cores, RSS %.0f MiB (peak %.0f); agents %.2f cores together",
		agents, rate, len(fs), window, cores(r0, r1), float64(r1.rssBytes)/(1<<20), float64(r1.hwmBytes)/(1<<20), agentCores)
	// With gRPC's growing windows, what the relay buffered for the stalled
	// followers took it to 875 MiB here.
	if limit := uint64(400 << 20); r1.hwmBytes > limit {
		t.Errorf("relay peak RSS %d MiB, over %d MiB", r1.hwmBytes>>20, limit>>20)
	}
}

// waitNodes waits until the relay reports connected nodes connected and
// unavailable ones unavailable.
func waitNodes(t *testing.T, conn *grpc.ClientConn, connected, unavailable uint32) {
	t.Helper()
	client := observerpb.NewObserverClient(conn)
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		st, err := client.ServerStatus(ctx, &observerpb.ServerStatusRequest{})
		cancel()
		if err == nil && st.GetNumConnectedNodes().GetValue() == connected && st.GetNumUnavailableNodes().GetValue() == unavailable {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("relay status %v, %v: want %d connected and %d unavailable nodes", st, err, connected, unavailable)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
