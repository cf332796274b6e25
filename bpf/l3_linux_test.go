//go:build linux

package bpf

import (
	"net"
	"net/netip"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"github.com/vishvananda/netlink"

	"github.com/foveanet/fovea/model/record"
)

// testL3Device captures on a TUN device, which has no link-layer header,
// as WireGuard and IP-in-IP devices have none: the L3 programs parse its
// packets from the IP header, and the device fixed as overlay reports
// what the node sends into it as TO_OVERLAY and what comes out of it as
// FROM_OVERLAY.
func testL3Device(t *testing.T) {
	const (
		dev    = "fvtun0"
		local  = "10.98.0.1"
		remote = "10.98.0.2"
	)
	tun := &netlink.Tuntap{LinkAttrs: netlink.LinkAttrs{Name: dev}, Mode: netlink.TUNTAP_MODE_TUN, Flags: netlink.TUNTAP_NO_PI, Queues: 1}
	if err := netlink.LinkAdd(tun); err != nil {
		t.Fatalf("add TUN device: %v", err)
	}
	defer func() {
		for _, f := range tun.Fds {
			_ = f.Close()
		}
		_ = netlink.LinkDel(tun)
	}()
	sh(t, "ip", "addr", "add", local+"/24", "dev", dev)
	sh(t, "ip", "link", "set", dev, "up")

	c := startCapture(t, Config{Interfaces: []string{dev + "=overlay"}})
	c.waitHook(t, dev+":true", 5*time.Second)
	defer c.stop(t)

	out, err := net.Dial("udp", net.JoinHostPort(remote, "9000"))
	if err != nil {
		t.Fatalf("dial through %s: %v", dev, err)
	}
	defer out.Close()
	if _, err := out.Write([]byte("x")); err != nil {
		t.Fatalf("send through %s: %v", dev, err)
	}
	if _, err := tun.Fds[0].Write(ipv4Packet(remote, local, record.ProtoUDP, udpDatagram(9001, 9002))); err != nil {
		t.Fatalf("inject into %s: %v", dev, err)
	}

	l, r := netip.MustParseAddr(local), netip.MustParseAddr(remote)
	for _, w := range []struct {
		name     string
		src, dst netip.Addr
		dport    uint16
		point    flowpb.TraceObservationPoint
	}{
		{"sent into the device", l, r, 9000, flowpb.TraceObservationPoint_TO_OVERLAY},
		{"received from it", r, l, 9002, flowpb.TraceObservationPoint_FROM_OVERLAY},
	} {
		rec := c.waitRecord(t, w.name, func(rec *record.Record) bool {
			return rec.Kind == record.KindTrace && rec.SrcAddr() == w.src && rec.DstAddr() == w.dst &&
				rec.Proto == record.ProtoUDP && rec.DstPort == w.dport
		})
		if got := flowpb.TraceObservationPoint(rec.ObsPoint); got != w.point {
			t.Errorf("%s: observation point %v, want %v", w.name, got, w.point)
		}
		if name := c.tables.Interfaces.Get(rec.Iface).GetName(); name != dev {
			t.Errorf("%s: interface %q, want %s", w.name, name, dev)
		}
	}
}
