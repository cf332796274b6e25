//go:build linux

package traffic_test

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"

	mdns "github.com/miekg/dns"

	"github.com/foveanet/fovea/test/traffic"
)

func TestDNSLookup(t *testing.T) {
	c := buildCluster(t)
	hosts := c.Hosts()
	client, api, server := hosts[0], hosts[1], hosts[2] // server on the other node
	zone, err := traffic.DemoZone(api)
	if err != nil {
		t.Fatal(err)
	}
	s, err := traffic.ServeDNS(t.Context(), server, zone, nil)
	if err != nil {
		t.Fatalf("ServeDNS: %v", err)
	}
	t.Cleanup(s.Close)
	for _, proto := range []traffic.Proto{traffic.ProtoUDP, traffic.ProtoTCP} {
		for _, fam := range []traffic.Family{traffic.IPv4, traffic.IPv6} {
			t.Run(fmt.Sprintf("%s/%s", proto, fam), func(t *testing.T) {
				qtype, want := mdns.TypeA, api.IPv4
				if fam == traffic.IPv6 {
					qtype, want = mdns.TypeAAAA, api.IPv6
				}
				l, err := traffic.LookupDNS(t.Context(), client, server, fam, proto, traffic.DemoWebName, qtype)
				if err != nil {
					t.Fatalf("LookupDNS: %v", err)
				}
				srcIP, _ := client.Addr(fam)
				dstIP, _ := server.Addr(fam)
				if l.Kind != traffic.KindDNS || l.Proto != proto || l.Src.IP != srcIP || l.Src.Port == 0 ||
					l.Dst.IP != dstIP || l.Dst.Port != traffic.DNSPort || l.Requests != 1 || l.Replies != 1 {
					t.Errorf("lookup description %s is wrong", l)
				}
				if l.Rcode != mdns.RcodeSuccess || !slices.Equal(l.Addrs, []netip.Addr{want}) ||
					!slices.Equal(l.CNAMEs, []string{traffic.DemoAPIName}) {
					t.Errorf("lookup %s: want %s via CNAME %s", l, want, traffic.DemoAPIName)
				}
			})
		}
	}
	l, err := traffic.LookupDNS(t.Context(), client, server, traffic.IPv4, traffic.ProtoUDP, "nope.demo.example", mdns.TypeA)
	if err != nil || l.Rcode != mdns.RcodeNameError {
		t.Errorf("lookup of a missing name: %s, %v; want NXDOMAIN", l, err)
	}
	if _, err := traffic.LookupDNS(t.Context(), client, server, traffic.IPv4, traffic.ProtoICMPv4, "x.", mdns.TypeA); err == nil {
		t.Error("LookupDNS over ICMP succeeded")
	}
	s.Close()
	if _, err := traffic.LookupDNS(t.Context(), client, server, traffic.IPv4, traffic.ProtoTCP, traffic.DemoAPIName, mdns.TypeA); err == nil {
		t.Error("lookup succeeded after Close")
	}
}
