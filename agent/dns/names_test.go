package dns_test

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/foveanet/fovea/agent/dns"
	"github.com/foveanet/fovea/model/intern"
)

func newNames(t *testing.T, opts ...dns.NamesOption) (*dns.Names, *intern.Table[[]string]) {
	t.Helper()
	table := intern.NewTable[[]string]()
	n, err := dns.NewNames(table, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return n, table
}

func TestNamesExpire(t *testing.T) {
	n, table := newNames(t, dns.WithMinTTL(10*time.Second))
	a := netip.MustParseAddr("10.0.0.7")
	sec := int64(time.Second)
	n.Add(a, "API.demo.example.", 30*time.Second, 0)
	n.Add(a, "short.demo.example.", time.Second, 0) // raised to the minimum TTL

	lookup := func(now int64) []string { return table.Get(n.Lookup(a, now)) }
	if got := lookup(5 * sec); !slices.Equal(got, []string{"api.demo.example", "short.demo.example"}) {
		t.Errorf("at 5s: %q", got)
	}
	if got := lookup(10 * sec); !slices.Equal(got, []string{"api.demo.example"}) {
		t.Errorf("at 10s: %q, want the short name expired", got)
	}
	// Re-adding extends the expiry.
	n.Add(a, "api.demo.example", 30*time.Second, 20*sec)
	if got := lookup(45 * sec); !slices.Equal(got, []string{"api.demo.example"}) {
		t.Errorf("at 45s: %q", got)
	}
	if got := n.Lookup(a, 50*sec); got != 0 || n.Len() != 0 {
		t.Errorf("at 50s: ref %d, len %d; want the address gone", got, n.Len())
	}
	if got := value(t, n.Collector(), "dns_names_cache_evictions_total"); got != 0 {
		t.Errorf("expiry counted as %v evictions", got)
	}
	// IPv4-mapped addresses are the IPv4 address.
	n.Add(netip.MustParseAddr("::ffff:10.0.0.8"), "m.example", time.Minute, 0)
	if n.Lookup(netip.MustParseAddr("10.0.0.8"), 0) == 0 {
		t.Error("IPv4-mapped address not unmapped")
	}
}

func TestNamesBounds(t *testing.T) {
	n, table := newNames(t, dns.WithCapacity(2), dns.WithMaxNamesPerAddr(2))
	a, b, c := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.0.0.3")
	n.Add(a, "a1.example", time.Hour, 0)
	n.Add(a, "a2.example", 2*time.Hour, 0)
	n.Add(a, "a3.example", 3*time.Hour, 0) // drops a1, expiring first
	if got := table.Get(n.Lookup(a, 0)); !slices.Equal(got, []string{"a2.example", "a3.example"}) {
		t.Errorf("names of a = %q", got)
	}
	n.Add(b, "b.example", time.Hour, 0)
	n.Add(c, "c.example", time.Hour, 0) // evicts a, least recently used
	if n.Lookup(a, 0) != 0 || n.Lookup(c, 0) == 0 || n.Len() != 2 {
		t.Errorf("eviction: a=%d c=%d len=%d", n.Lookup(a, 0), n.Lookup(c, 0), n.Len())
	}
	if got := value(t, n.Collector(), "dns_names_cache_evictions_total"); got != 1 {
		t.Errorf("evictions = %v, want 1", got)
	}
	if got := value(t, n.Collector(), "dns_names_cache_entries"); got != 2 {
		t.Errorf("entries = %v, want 2", got)
	}
	// The same name list interns to one reference.
	n.Add(b, "c.example", time.Hour, 0)
	n.Add(c, "b.example", time.Hour, 0)
	if n.Lookup(b, 0) != n.Lookup(c, 0) {
		t.Error("equal name lists have different references")
	}
}

func TestNamesLearn(t *testing.T) {
	n, table := newNames(t)
	q := query("www.demo.example.", mdns.TypeAAAA)
	r := answer(q, "www.demo.example. 60 IN CNAME web.demo.example.",
		"web.demo.example. 60 IN CNAME api.demo.example.", "api.demo.example. 60 IN AAAA fd00::7")
	n.Learn(q, 0) // queries teach nothing
	if n.Len() != 0 {
		t.Fatal("a query fed the cache")
	}
	n.Learn(r, 0)
	got := table.Get(n.Lookup(netip.MustParseAddr("fd00::7"), 0))
	if want := []string{"api.demo.example", "web.demo.example", "www.demo.example"}; !slices.Equal(got, want) {
		t.Errorf("names = %q, want %q", got, want)
	}
}

func TestNewNamesRejectsBadOptions(t *testing.T) {
	table := intern.NewTable[[]string]()
	for name, opts := range map[string][]dns.NamesOption{
		"capacity": {dns.WithCapacity(0)},
		"per addr": {dns.WithMaxNamesPerAddr(0)},
		"min ttl":  {dns.WithMinTTL(-time.Second)},
	} {
		if _, err := dns.NewNames(table, opts...); err == nil {
			t.Errorf("%s: NewNames succeeded", name)
		}
	}
	if _, err := dns.NewNames(nil); err == nil {
		t.Error("NewNames(nil) succeeded")
	}
}
