//go:build linux

package soak

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	observerpb "github.com/cilium/cilium/api/v1/observer"
	"google.golang.org/grpc"
)

// probeInterval is how often the well-behaved client calls.
const probeInterval = 5 * time.Millisecond

// probe is a well-behaved client calling ServerStatus in a loop, whose
// latency shows whether an attack hurts everyone else.
type probe struct {
	mu     sync.Mutex
	lat    []time.Duration
	errs   int
	cancel context.CancelFunc
	done   chan struct{}
}

// startProbe calls ServerStatus on conn every probeInterval until stop.
func startProbe(conn *grpc.ClientConn) *probe {
	ctx, cancel := context.WithCancel(context.Background())
	p := &probe{cancel: cancel, done: make(chan struct{})}
	client := observerpb.NewObserverClient(conn)
	go func() {
		defer close(p.done)
		tick := time.NewTicker(probeInterval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			callCtx, cancelCall := context.WithTimeout(ctx, 5*time.Second)
			start := time.Now()
			_, err := client.ServerStatus(callCtx, &observerpb.ServerStatusRequest{})
			d := time.Since(start)
			cancelCall()
			p.mu.Lock()
			if err != nil && ctx.Err() == nil {
				p.errs++
			} else if err == nil {
				p.lat = append(p.lat, d)
			}
			p.mu.Unlock()
		}
	}()
	return p
}

// calls is how many calls have ended so far.
func (p *probe) calls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.lat) + p.errs
}

// latency is what a probe measured.
type latency struct {
	calls, errs int
	p50, p99    time.Duration
}

// stop ends the probe and returns its figures.
func (p *probe) stop() latency {
	p.cancel()
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	slices.Sort(p.lat)
	l := latency{calls: len(p.lat), errs: p.errs}
	if len(p.lat) > 0 {
		l.p50, l.p99 = p.lat[len(p.lat)/2], p.lat[len(p.lat)*99/100]
	}
	return l
}

// measure runs attack on a until d has passed (attack gets a context that ends
// then) while a probe on conn measures, and fails the test if the probe
// saw an error.
func measure(t *testing.T, a *agentProc, conn *grpc.ClientConn, name string, d time.Duration, attack func(ctx context.Context)) latency {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	s0 := a.stats(t)
	p := startProbe(conn)
	attack(ctx)
	<-ctx.Done()
	// An attack over within a few milliseconds still gets a call measured.
	for deadline := time.Now().Add(10 * time.Second); p.calls() == 0 && time.Now().Before(deadline); {
		time.Sleep(probeInterval)
	}
	l := p.stop()
	s1 := a.stats(t)
	t.Logf("%-28s %5.1fs, server %.2f cores, RSS %3.0f MiB; well-behaved client: %5d calls, p50 %v, p99 %v, %d errors", name,
		s1.at.Sub(s0.at).Seconds(), cores(s0, s1), float64(s1.rssBytes)/(1<<20), l.calls, l.p50.Round(time.Microsecond), l.p99.Round(time.Microsecond), l.errs)
	if l.errs > 0 || l.calls == 0 {
		t.Errorf("%s: the well-behaved client had %d errors in %d calls", name, l.errs, l.calls+l.errs)
	}
	return l
}
