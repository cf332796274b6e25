package flowview

import (
	"crypto/rand"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
)

// Node describes the agent's node; it is the same for every event an agent
// serves. Build it with NewNode.
type Node struct {
	Name    string
	Cluster string
	Version string
	// BootID distinguishes flow UUIDs of different agent runs: a flow's UUID
	// is derived from it and the flow's ring sequence number.
	BootID [8]byte
	Tables *intern.Tables

	emitter  *flowpb.Emitter
	absolute string
	labels   nodeLabels
}

// AbsoluteName is the node's name as Cilium writes it in flows, responses
// and peer announcements: "cluster/node", or the bare name without a cluster.
func (n *Node) AbsoluteName() string { return n.absolute }

// NewNode describes the node an agent runs on, with a fresh random boot ID.
func NewNode(name, cluster, version string, labels []string, tables *intern.Tables) *Node {
	n := &Node{
		Name: name, Cluster: cluster, Version: version, Tables: tables,
		emitter:  &flowpb.Emitter{Name: "Fovea", Version: version},
		absolute: name,
	}
	if cluster != "" && name != "" {
		n.absolute = cluster + "/" + name
	}
	n.labels.set(labels, 0)
	_, _ = rand.Read(n.BootID[:]) // crypto/rand.Read never fails on Linux or Windows
	return n
}

// Flow is one record read from the ring. The zero Flow is not usable; set
// it with Reset. Reuse a Flow across records to avoid allocation.
type Flow struct {
	Rec  record.Record
	Seq  uint64
	node *Node
	flow *flowpb.Flow
}

// Reset points e at rec (copied) with ring sequence seq, dropping any flow
// built for its previous record.
func (e *Flow) Reset(node *Node, rec *record.Record, seq uint64) {
	e.Rec, e.Seq, e.node, e.flow = *rec, seq, node, nil
}

// Node returns the node the event was observed on.
func (e *Flow) Node() *Node { return e.node }

// IsLost reports whether the event counts lost events rather than a flow.
func (e *Flow) IsLost() bool { return e.Rec.Kind == record.KindLost }

// SrcEndpoint returns the interned source endpoint (never nil for flows).
func (e *Flow) SrcEndpoint() *flowpb.Endpoint { return e.endpoint(e.Rec.SrcEndpoint) }

// DstEndpoint returns the interned destination endpoint (never nil for flows).
func (e *Flow) DstEndpoint() *flowpb.Endpoint { return e.endpoint(e.Rec.DstEndpoint) }

var emptyEndpoint = &flowpb.Endpoint{}

func (e *Flow) endpoint(ref intern.Ref) *flowpb.Endpoint {
	if ep := e.node.Tables.Endpoints.Get(ref); ep != nil {
		return ep
	}
	return emptyEndpoint
}

// SrcNames returns the DNS names known for the source address.
func (e *Flow) SrcNames() []string { return e.node.Tables.Names.Get(e.Rec.SrcNames) }

// DstNames returns the DNS names known for the destination address.
func (e *Flow) DstNames() []string { return e.node.Tables.Names.Get(e.Rec.DstNames) }

// Interface returns the interface the packet was seen on, or nil.
func (e *Flow) Interface() *flowpb.NetworkInterface {
	return e.node.Tables.Interfaces.Get(e.Rec.Iface)
}

// Flow returns the event as a flow.Flow, building it on first use. The flow
// shares interned messages (endpoints, interface, services): callers must
// not modify it or anything it points to.
func (e *Flow) Flow() *flowpb.Flow {
	if e.flow == nil {
		e.flow = build(e)
	}
	return e.flow
}

// Lost returns the lost-event counts of a KindLost event.
func (e *Flow) Lost() *flowpb.LostEvent { return buildLost(e) }
