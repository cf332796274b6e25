package bpf

import (
	"net/netip"
	"strconv"
	"sync"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/intern"
)

// tunnelKey is what Tables.Tunnels tells tunnels apart by: all of a
// Tunnel but the outer source port (see flowview.NewTunnel).
type tunnelKey struct {
	kind     WireKind
	src, dst netip.Addr
	dport    uint16
	vni      uint32
}

// tunnelRefs caches the references of the tunnels the reader saw, so that
// a decapsulated packet costs a map lookup, not a key string and an
// Intern. The cache holds a reference while it is used between sweeps;
// records in the ring hold it after that.
type tunnelRefs struct {
	mu   sync.Mutex
	refs map[tunnelKey]*tunnelRef
}

type tunnelRef struct {
	ref  intern.Ref
	used bool // since the last sweep's mark
}

// ref returns the reference of tunnel t in table, interning it first if
// needed.
func (c *tunnelRefs) ref(table *intern.Table[*flowpb.Tunnel], t Wire) intern.Ref {
	k := tunnelKey{kind: t.Kind, src: t.Src, dst: t.Dst, dport: t.DstPort, vni: t.VNI}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.refs[k]
	if e == nil || e.ref == 0 {
		ref := table.Intern(k.String(), func() *flowpb.Tunnel {
			return flowview.NewTunnel(t.Kind.flowProtocol(), t.Src, t.Dst, t.DstPort, t.VNI)
		})
		if c.refs == nil {
			c.refs = make(map[tunnelKey]*tunnelRef)
		}
		e = &tunnelRef{ref: ref}
		c.refs[k] = e
	}
	e.used = true
	return e.ref
}

// mark marks the tunnels used since the last mark and forgets the others,
// which records in the ring still hold for as long as they need them.
func (c *tunnelRefs) mark(m *intern.Mark) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.refs {
		if !e.used {
			delete(c.refs, k)
			continue
		}
		e.used = false
		m.Add(e.ref)
	}
}

func (k tunnelKey) String() string {
	return k.kind.String() + "/" + k.src.String() + ">" + k.dst.String() + ":" +
		strconv.Itoa(int(k.dport)) + "/" + strconv.FormatUint(uint64(k.vni), 10)
}

// flowProtocol is Hubble's name for a tunnel protocol: IP-in-IP has none.
func (k WireKind) flowProtocol() flowpb.Tunnel_Protocol {
	switch k {
	case WireVXLAN:
		return flowpb.Tunnel_VXLAN
	case WireGeneve:
		return flowpb.Tunnel_GENEVE
	}
	return flowpb.Tunnel_UNKNOWN
}
