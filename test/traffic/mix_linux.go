//go:build linux

package traffic

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	mdns "github.com/miekg/dns"
)

// Defaults for MixConfig fields left zero.
const (
	DefaultMixRate     = 4.0
	DefaultMixParallel = 16
)

// MixConfig describes a continuous traffic mix.
type MixConfig struct {
	// Hosts are the pods traffic runs between; at least two.
	Hosts []Host
	// Rate is the number of new connections per second.
	Rate float64
	// Families to pick from; both if empty.
	Families []Family
	// LongInterval is the request interval of the long-lived connections.
	LongInterval time.Duration
	// Parallel bounds connections in flight; a tick finding it full is
	// skipped and reported to Observe as ErrSkipped.
	Parallel int
	// Seed makes the choice of pairs and kinds reproducible.
	Seed   uint64
	Logger *slog.Logger
	// Observe, if set, is called (from several goroutines) for every
	// finished connection.
	Observe func(Conn, error)
}

// ErrSkipped reports a mix tick dropped because Parallel were in flight.
var ErrSkipped = errors.New("skipped: too many connections in flight")

// mixWeights sets how often each short-lived kind is picked.
var mixWeights = []struct {
	kind   Kind
	weight int
}{
	{KindTCPShort, 5},
	{KindUDP, 2},
	{KindICMP, 2},
	{KindTCPRefused, 1},
	{KindDNS, 2},
}

// RunMix serves on every host and generates traffic until parent is done:
// one long-lived TCP connection per family from the first host to the last
// (on different nodes in a cluster's host order) plus Rate short exchanges
// per second between random pairs. It returns nil when parent ends it.
func RunMix(parent context.Context, cfg MixConfig) error {
	if len(cfg.Hosts) < 2 {
		return fmt.Errorf("invalid MixConfig.Hosts: %d hosts, want >= 2", len(cfg.Hosts))
	}
	if cfg.Rate < 0 {
		return fmt.Errorf("invalid MixConfig.Rate %g: want >= 0", cfg.Rate)
	}
	if cfg.Rate == 0 {
		cfg.Rate = DefaultMixRate
	}
	if len(cfg.Families) == 0 {
		cfg.Families = []Family{IPv4, IPv6}
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = DefaultMixParallel
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Observe == nil {
		cfg.Observe = func(Conn, error) {}
	}
	// Generators get a context that ends by cancellation only: a deadline
	// could expire on a socket before ctx.Err is set, and a connection cut
	// short by the end of the mix would be reported as failed.
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	defer context.AfterFunc(parent, cancel)()
	defer cancel()
	for _, h := range cfg.Hosts {
		s, err := Serve(ctx, h, cfg.Logger)
		if err != nil {
			return err
		}
		defer s.Close()
	}

	first, last := cfg.Hosts[0], cfg.Hosts[len(cfg.Hosts)-1]
	// The last host answers DNS for the demo zone, whose names point at the
	// second host, so lookups are followed by connections to a named pod.
	zone, err := DemoZone(cfg.Hosts[1])
	if err != nil {
		return err
	}
	dnsServer, err := ServeDNS(ctx, last, zone, cfg.Logger)
	if err != nil {
		return err
	}
	defer dnsServer.Close()

	var wg sync.WaitGroup
	defer wg.Wait()
	for _, fam := range cfg.Families {
		wg.Go(func() { keepLong(ctx, first, last, fam, cfg) })
	}

	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	slots := make(chan struct{}, cfg.Parallel)
	ticker := time.NewTicker(time.Duration(float64(time.Second) / cfg.Rate))
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
		src, dst := pickPair(rng, cfg.Hosts)
		kind := pickKind(rng)
		query := pickQuery(rng)
		if kind == KindDNS {
			if src.Name == last.Name {
				src = first
			}
			dst = last
		}
		fam := cfg.Families[rng.IntN(len(cfg.Families))]
		select {
		case slots <- struct{}{}:
		default:
			cfg.Observe(Conn{Kind: kind, Start: time.Now()}, ErrSkipped)
			continue
		}
		wg.Go(func() {
			defer func() { <-slots }()
			c, err := runOne(ctx, kind, src, dst, fam, query)
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				cfg.Logger.Warn("generated connection failed", "conn", c.String(), "err", err)
			}
			cfg.Observe(c, err)
		})
	}
}

// keepLong keeps a long-lived connection up, reopening it after failures.
func keepLong(ctx context.Context, src, dst Host, fam Family, cfg MixConfig) {
	for ctx.Err() == nil {
		c, err := TCPLong(ctx, src, dst, fam, LongConfig{Interval: cfg.LongInterval})
		if ctx.Err() != nil {
			cfg.Observe(c, nil)
			return
		}
		cfg.Logger.Warn("long-lived connection failed", "conn", c.String(), "err", err)
		cfg.Observe(c, err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func runOne(ctx context.Context, kind Kind, src, dst Host, fam Family, query dnsQuery) (Conn, error) {
	switch kind {
	case KindUDP:
		return UDP(ctx, src, dst, fam)
	case KindICMP:
		return ICMP(ctx, src, dst, fam, 1)
	case KindTCPRefused:
		return TCPRefused(ctx, src, dst, fam)
	case KindDNS:
		return query.lookup(ctx, src, dst, fam)
	default:
		return TCPShort(ctx, src, dst, fam)
	}
}

func pickPair(rng *rand.Rand, hosts []Host) (Host, Host) {
	i := rng.IntN(len(hosts))
	j := rng.IntN(len(hosts) - 1)
	if j >= i {
		j++
	}
	return hosts[i], hosts[j]
}

func pickKind(rng *rand.Rand) Kind {
	total := 0
	for _, w := range mixWeights {
		total += w.weight
	}
	n := rng.IntN(total)
	for _, w := range mixWeights {
		if n < w.weight {
			return w.kind
		}
		n -= w.weight
	}
	return KindTCPShort
}

// dnsQuery is what a DNS lookup of the mix asks, chosen by the mix's
// generator so that a seed reproduces it.
type dnsQuery struct {
	name  string
	proto Proto
}

func pickQuery(rng *rand.Rand) dnsQuery {
	q := dnsQuery{name: DemoAPIName, proto: ProtoUDP}
	if rng.IntN(2) == 0 {
		q.name = DemoWebName // a CNAME to the API name
	}
	if rng.IntN(4) == 0 {
		q.proto = ProtoTCP
	}
	return q
}

// lookup asks server for q's name with the address type of fam.
func (q dnsQuery) lookup(ctx context.Context, src, server Host, fam Family) (Conn, error) {
	qtype := mdns.TypeA
	if fam == IPv6 {
		qtype = mdns.TypeAAAA
	}
	l, err := LookupDNS(ctx, src, server, fam, q.proto, q.name, qtype)
	return l.Conn, err
}
