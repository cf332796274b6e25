package flowview

import (
	"net/netip"
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"google.golang.org/protobuf/proto"

	"github.com/foveanet/fovea/model/record"
)

func TestFlowTunnel(t *testing.T) {
	node := testNode()
	src, dst := netip.MustParseAddr("172.30.0.1"), netip.MustParseAddr("172.30.0.2")
	vxlan := node.Tables.Tunnels.Intern("vxlan", func() *flowpb.Tunnel {
		return NewTunnel(flowpb.Tunnel_VXLAN, src, dst, 8472, 1)
	})
	ipip := node.Tables.Tunnels.Intern("ipip", func() *flowpb.Tunnel {
		return NewTunnel(flowpb.Tunnel_UNKNOWN, netip.MustParseAddr("fd00::1"), netip.MustParseAddr("fd00::2"), 0, 0)
	})
	for _, tc := range []struct {
		name string
		edit func(r *record.Record)
		want *flowpb.Tunnel
	}{
		{"not tunnelled", func(*record.Record) {}, nil},
		{"vxlan", func(r *record.Record) { r.Ext, r.TunnelSrcPort = vxlan, 51000 }, &flowpb.Tunnel{
			Protocol: flowpb.Tunnel_VXLAN, Vni: 1,
			IP: &flowpb.IP{Source: "172.30.0.1", Destination: "172.30.0.2", IpVersion: flowpb.IPVersion_IPv4},
			L4: &flowpb.Layer4{Protocol: &flowpb.Layer4_UDP{UDP: &flowpb.UDP{SourcePort: 51000, DestinationPort: 8472}}},
		}},
		{"ip-in-ip", func(r *record.Record) { r.Ext = ipip }, &flowpb.Tunnel{
			Protocol: flowpb.Tunnel_UNKNOWN,
			IP:       &flowpb.IP{Source: "fd00::1", Destination: "fd00::2", IpVersion: flowpb.IPVersion_IPv6},
		}},
	} {
		rec := tcpRecord()
		tc.edit(&rec)
		var e Flow
		e.Reset(node, &rec, 1)
		if got := e.Flow().GetTunnel(); !proto.Equal(got, tc.want) {
			t.Errorf("%s: tunnel %v, want %v", tc.name, got, tc.want)
		}
	}
	// The shared value keeps no record's port.
	if got := node.Tables.Tunnels.Get(vxlan).GetL4().GetUDP().GetSourcePort(); got != 0 {
		t.Errorf("interned tunnel's source port became %d", got)
	}
}

func TestFlowSourceXlated(t *testing.T) {
	node := testNode()
	snat := node.Tables.Names.Intern("snat/172.30.0.1", func() []string { return []string{"172.30.0.1"} })
	rec := tcpRecord()
	rec.Flags |= record.FlagSNAT
	rec.Ext = snat
	var e Flow
	e.Reset(node, &rec, 1)
	f := e.Flow()
	if got := f.GetIP().GetSourceXlated(); got != "172.30.0.1" {
		t.Errorf("source_xlated %q, want 172.30.0.1", got)
	}
	if f.GetIP().GetSource() != "10.244.1.10" || f.GetTunnel() != nil {
		t.Errorf("flow %v: want the pod's source and no tunnel", f)
	}
}

func TestFlowEncrypted(t *testing.T) {
	rec := tcpRecord()
	rec.Flags |= record.FlagEncrypted
	var e Flow
	e.Reset(testNode(), &rec, 1)
	if !e.Flow().GetIP().GetEncrypted() {
		t.Error("a record seen on an encrypting device gives a flow without IP.encrypted")
	}
	rec.Flags &^= record.FlagEncrypted
	e.Reset(testNode(), &rec, 1)
	if e.Flow().GetIP().GetEncrypted() {
		t.Error("IP.encrypted set without the flag")
	}
}
