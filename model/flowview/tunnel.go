package flowview

import (
	"net/netip"

	flowpb "github.com/cilium/cilium/api/v1/flow"
)

// NewTunnel is what intern.Tables.Tunnels holds for a decapsulated packet's
// outer headers: all of them but the outer UDP source port, which varies
// with the inner flow and stays in the record (TunnelSrcPort), so that the
// table holds one value per node pair, protocol, port and VNI. dport is
// zero for IP-in-IP, whose tunnel has no L4.
func NewTunnel(proto flowpb.Tunnel_Protocol, src, dst netip.Addr, dport uint16, vni uint32) *flowpb.Tunnel {
	t := &flowpb.Tunnel{
		Protocol: proto,
		IP:       &flowpb.IP{Source: src.String(), Destination: dst.String(), IpVersion: flowpb.IPVersion_IPv4},
		Vni:      vni,
	}
	if src.Is6() && !src.Is4In6() {
		t.IP.IpVersion = flowpb.IPVersion_IPv6
	}
	if dport != 0 {
		t.L4 = &flowpb.Layer4{Protocol: &flowpb.Layer4_UDP{UDP: &flowpb.UDP{DestinationPort: uint32(dport)}}}
	}
	return t
}

// buildTunnel returns the tunnel of a trace record of a decapsulated
// packet, or nil (Ext is zero for any other).
func buildTunnel(e *Flow) *flowpb.Tunnel {
	r := &e.Rec
	t := e.node.Tables.Tunnels.Get(r.Ext)
	if t == nil {
		return nil
	}
	if t.L4 == nil {
		return t
	}
	// The interned value is shared: the record's source port goes into a
	// copy.
	return &flowpb.Tunnel{
		Protocol: t.Protocol,
		IP:       t.IP,
		Vni:      t.Vni,
		L4: &flowpb.Layer4{Protocol: &flowpb.Layer4_UDP{UDP: &flowpb.UDP{
			SourcePort: uint32(r.TunnelSrcPort), DestinationPort: t.L4.GetUDP().GetDestinationPort(),
		}}},
	}
}
