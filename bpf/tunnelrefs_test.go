package bpf

import (
	"net/netip"
	"testing"

	"github.com/foveanet/fovea/model/intern"
)

func TestTunnelRefs(t *testing.T) {
	tables := intern.NewTables()
	var c tunnelRefs
	tun := Wire{Kind: WireVXLAN, Src: netip.MustParseAddr("172.30.0.1"), Dst: netip.MustParseAddr("172.30.0.2"), SrcPort: 51000, DstPort: 8472, VNI: 1}
	a := c.ref(tables.Tunnels, tun)
	tun.SrcPort = 51001 // another inner flow through the same tunnel
	if b := c.ref(tables.Tunnels, tun); b != a || tables.Tunnels.Len() != 1 {
		t.Fatalf("refs %d and %d, %d entries: the outer source port must not split a tunnel", a, b, tables.Tunnels.Len())
	}
	got := tables.Tunnels.Get(a)
	if got.GetVni() != 1 || got.GetIP().GetSource() != "172.30.0.1" || got.GetL4().GetUDP().GetDestinationPort() != 8472 {
		t.Fatalf("interned %v", got)
	}

	sweep := func() {
		t.Helper()
		m := tables.NewMarks()
		c.mark(m.Tunnels)
		if _, err := tables.Sweep(m); err != nil {
			t.Fatal(err)
		}
	}
	// Used since the last mark: kept however many sweeps pass.
	for range 3 {
		c.ref(tables.Tunnels, tun)
		sweep()
	}
	if tables.Tunnels.Get(a) == nil {
		t.Fatal("a tunnel in use was freed")
	}
	// Unused: forgotten by the cache, then freed.
	for range 3 {
		sweep()
	}
	if tables.Tunnels.Get(a) != nil || len(c.refs) != 0 {
		t.Fatalf("an unused tunnel stayed: %v, cache %v", tables.Tunnels.Get(a), c.refs)
	}
	if b := c.ref(tables.Tunnels, tun); b == a || tables.Tunnels.Get(b) == nil {
		t.Fatalf("re-interned as %d (was %d)", b, a)
	}
}
