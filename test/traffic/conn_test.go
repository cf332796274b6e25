package traffic

import (
	"net/netip"
	"strings"
	"testing"
)

func TestHostAddr(t *testing.T) {
	h := Host{Name: "demo/a", IPv4: netip.MustParseAddr("10.244.1.11")}
	if a, err := h.Addr(IPv4); err != nil || a != h.IPv4 {
		t.Errorf("Addr(IPv4) = %s, %v", a, err)
	}
	if _, err := h.Addr(IPv6); err == nil || !strings.Contains(err.Error(), "no IPv6") {
		t.Errorf("Addr(IPv6) err = %v, want missing address", err)
	}
	if _, err := h.Addr(Family(5)); err == nil || !strings.Contains(err.Error(), "family") {
		t.Errorf("Addr(5) err = %v, want invalid family", err)
	}
}

func TestConnString(t *testing.T) {
	c := Conn{
		Kind: KindICMP, Proto: ProtoICMPv6, ICMPID: 7, Requests: 1, Replies: 1,
		Src: Endpoint{Host: "demo/a", IP: netip.MustParseAddr("fd00:10:244:1::11")},
		Dst: Endpoint{Host: "demo/b", IP: netip.MustParseAddr("fd00:10:244:2::11")},
	}
	want := "icmp ICMPv6 demo/a(fd00:10:244:1::11) -> demo/b(fd00:10:244:2::11) id=7 req=1 rep=1"
	if got := c.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
