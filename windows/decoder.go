package windows

import (
	"errors"
	"strconv"
	"sync/atomic"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/packet"
	"github.com/foveanet/fovea/model/record"
)

// RT_LostEvent opcodes: what a real-time session lost.
const (
	lostOpcodeEvents  = 32 // RTLostEvent: events lost
	lostOpcodeBuffers = 33 // RTLostBuffer: a whole buffer lost
	lostOpcodeFile    = 34 // RTLostFile: the backing file lost
)

// dedupeWindow is how many recent packets the decoder remembers to report
// each once.
const dedupeWindow = 8192

// dropReasonKeyPrefix keys PktMon drop reason names in Tables.Names apart
// from DNS names and the kernel's skb_drop_reason names.
const dropReasonKeyPrefix = "pktmon_drop_reason/"

// Reasons an event yields no record (windows_events_dropped_total{reason}).
const (
	dropReasonProvider   = "unexpected_provider"
	dropReasonEventID    = "unexpected_event_id"
	dropReasonMalformed  = "malformed_event"
	dropReasonPacketType = "unsupported_packet_type"
	dropReasonNotIP      = "not_ip"
	dropReasonBadPacket  = "malformed_packet"
	dropReasonDuplicate  = "duplicate_appearance"
	dropReasonTunnel     = "tunnel_appearance"
	dropReasonVersion    = "unsupported_event_version"
)

var droppedReasons = []string{dropReasonProvider, dropReasonEventID, dropReasonMalformed,
	dropReasonPacketType, dropReasonNotIP, dropReasonBadPacket, dropReasonDuplicate, dropReasonTunnel, dropReasonVersion}

// vxlanPort is the UDP port of the VXLAN tunnels between Windows nodes
// (HNS overlay networks, flannel's vxlan backend on Windows).
const vxlanPort = 4789

// Decoder turns ETW events into records: PktMon packets into traces, PktMon
// drops into drops, RT_LostEvent into lost events. It is used by one
// goroutine, the one that emits into the ring; its counters are read by
// Collector from any.
type Decoder struct {
	tables     *intern.Tables
	endpoints  *Endpoints
	components *Components
	seen       *seenPackets
	dropRefs   map[uint32]intern.Ref
	ifaces     map[uint16]ifaceRef
	ifacePins  int

	events  [2]atomic.Uint64 // packets, drops read
	dropped map[string]*atomic.Uint64
	lost    [3]atomic.Uint64 // by RT_LostEvent opcode - 32
}

// NewDecoder returns a decoder that interns drop reason names and
// components (as interfaces) into tables, tells this node's pods by
// endpoints, and a pod's vSwitch port or VM NIC among components by the
// endpoint's MAC address.
func NewDecoder(tables *intern.Tables, endpoints *Endpoints, components *Components) *Decoder {
	d := &Decoder{
		tables: tables, endpoints: endpoints, components: components, seen: newSeenPackets(dedupeWindow),
		dropRefs: map[uint32]intern.Ref{}, ifaces: map[uint16]ifaceRef{}, dropped: map[string]*atomic.Uint64{},
	}
	for _, r := range droppedReasons {
		d.dropped[r] = new(atomic.Uint64)
	}
	return d
}

// Decode writes the record ev stands for into rec and reports whether there
// is one; an event without one is counted by its reason.
func (d *Decoder) Decode(ev Event, rec *record.Record) bool {
	switch ev.Provider {
	case PktMonProvider:
		return d.decodePktMon(ev, rec)
	case LostEventProvider:
		return d.decodeLost(ev, rec)
	}
	d.dropped[dropReasonProvider].Add(1)
	return false
}

// Handler returns the function a session (or a replay) calls with each
// event: it decodes the event and emits its record, if any, from the
// caller's goroutine; emit does not retain the record.
func (d *Decoder) Handler(emit func(*record.Record)) func(Event) {
	var rec record.Record
	return func(ev Event) {
		if d.Decode(ev, &rec) {
			emit(&rec)
		}
	}
}

// decodeLost reports ETW's own losses: ETW says that it lost, not how
// much, so each notice is a lost event of count one (at least one event).
func (d *Decoder) decodeLost(ev Event, rec *record.Record) bool {
	if ev.Opcode < lostOpcodeEvents || ev.Opcode > lostOpcodeFile {
		d.dropped[dropReasonEventID].Add(1)
		return false
	}
	d.lost[ev.Opcode-lostOpcodeEvents].Add(1)
	*rec = record.Record{
		Time:       ev.Time,
		Kind:       record.KindLost,
		Count:      1,
		LostSource: uint8(flowpb.LostEventSource_PERF_EVENT_RING_BUFFER),
	}
	return true
}

func (d *Decoder) decodePktMon(ev Event, rec *record.Record) bool {
	if ev.ID != EventPacket && ev.ID != EventDrop {
		d.dropped[dropReasonEventID].Add(1)
		return false
	}
	d.events[boolIndex(ev.ID == EventDrop)].Add(1)
	// Version 0 is the only layout PktMon has logged (1809 to 24H2); a
	// new one is counted, not misread.
	if ev.Version != 0 {
		d.dropped[dropReasonVersion].Add(1)
		return false
	}
	pm, err := ParsePktMon(ev.ID, ev.UserData)
	if err != nil {
		d.dropped[dropReasonMalformed].Add(1)
		return false
	}
	kind := seenTrace
	if pm.Drop {
		kind = seenDrop
	}
	key := packetKey{pm.GroupID, pm.Number}
	if d.seen.has(key, kind) {
		d.dropped[dropReasonDuplicate].Add(1)
		return false
	}
	var h packet.Headers
	switch pm.Type {
	case PacketEthernet:
		h, err = packet.ParseEthernet(pm.Payload)
	case PacketIP:
		h, err = packet.ParseIP(pm.Payload)
	default:
		d.dropped[dropReasonPacketType].Add(1)
		return false
	}
	if err != nil {
		if errors.Is(err, packet.ErrNotIP) {
			d.dropped[dropReasonNotIP].Add(1)
		} else {
			d.dropped[dropReasonBadPacket].Add(1)
		}
		return false
	}
	// On an overlay network the NIC logs a pod's packet inside its VXLAN
	// envelope, under the same packet group as its decapsulated
	// appearances: the envelope is no flow, the pod packet is, where VFP
	// or the pod's port logs it.
	if !pm.Drop && h.Proto == record.ProtoUDP && h.HasL4 && h.DstPort == vxlanPort {
		d.dropped[dropReasonTunnel].Add(1)
		return false
	}
	d.seen.add(key, kind)
	comp := d.components.Lookup(pm.ComponentID)
	*rec = record.Record{Time: ev.Time, Bytes: uint32(pm.OriginalSize), Iface: d.ifaceRef(comp)}
	h.Fill(rec)
	// At a pod's own vSwitch port or VM NIC (HNS endpoint MAC = component
	// MAC) the pod's side is known; elsewhere the addresses tell.
	var port *Endpoint
	if comp != nil {
		port = d.endpoints.LookupMAC(comp.MAC)
	}
	srcLocal, dstLocal := d.endpoints.Lookup(h.Src) != nil, d.endpoints.Lookup(h.Dst) != nil
	if pm.Drop {
		rec.Kind = record.KindDrop
		rec.Verdict = uint8(flowpb.Verdict_DROPPED)
		rec.DropReason = uint16(HubbleDropReason(pm.DropReason))
		rec.Detail = pm.DropReason
		rec.Ext = d.dropNameRef(pm.DropReason)
		egress := sent(srcLocal, dstLocal, pm.Dir)
		if port != nil && (port.has(h.Src) || port.has(h.Dst)) {
			egress = port.has(h.Src)
		}
		if egress {
			rec.Flags |= record.FlagSent
		}
		return true
	}
	rec.Kind = record.KindTrace
	rec.Verdict = uint8(flowpb.Verdict_FORWARDED)
	switch {
	case port != nil && port.has(h.Src):
		rec.ObsPoint = uint8(flowpb.TraceObservationPoint_FROM_ENDPOINT)
	case port != nil && port.has(h.Dst):
		rec.ObsPoint = uint8(flowpb.TraceObservationPoint_TO_ENDPOINT)
	default:
		rec.ObsPoint = uint8(obsPoint(srcLocal, dstLocal, pm.Dir))
	}
	return true
}

// ifaceRef is a component's interned interface, with the name it had.
type ifaceRef struct {
	name string
	ref  intern.Ref
}

// maxIfaceRefs bounds the pinned component interfaces: a node has tens of
// components; ids and names are re-read, so a few renames fit too.
const maxIfaceRefs = 1024

// ifaceRef returns the interface a record seen at comp shows: the
// component's id as index and its name, interned and pinned on first use;
// zero for a component not (yet) listed.
func (d *Decoder) ifaceRef(comp *Component) intern.Ref {
	if comp == nil {
		return 0
	}
	if r, ok := d.ifaces[comp.ID]; ok && r.name == comp.Name {
		return r.ref
	}
	if d.ifacePins >= maxIfaceRefs {
		return 0
	}
	id, name := comp.ID, comp.Name
	ref := d.tables.Interfaces.Intern("pktmon/"+strconv.Itoa(int(id))+"/"+name, func() *flowpb.NetworkInterface {
		return &flowpb.NetworkInterface{Index: uint32(id), Name: name}
	})
	d.tables.Interfaces.Pin(ref)
	d.ifacePins++
	d.ifaces[id] = ifaceRef{name: name, ref: ref}
	return ref
}

// obsPoint is where a packet is reported from: where it was first seen,
// since a packet is reported once however many components it crossed.
// A pod's packet is first seen at its vSwitch port, FROM_ENDPOINT, as on
// Linux at its veth; one towards a pod is TO_ENDPOINT unless it was first
// seen coming in from the wire (FROM_NETWORK: it may yet be dropped before
// the pod, and then a drop follows); the node's own traffic is at the
// network.
func obsPoint(srcLocal, dstLocal bool, dir DirTag) flowpb.TraceObservationPoint {
	in, known := dir.Inbound()
	switch {
	case srcLocal:
		return flowpb.TraceObservationPoint_FROM_ENDPOINT
	case dstLocal && !(known && in):
		return flowpb.TraceObservationPoint_TO_ENDPOINT
	case !known:
		return flowpb.TraceObservationPoint_UNKNOWN_POINT
	case in:
		return flowpb.TraceObservationPoint_FROM_NETWORK
	}
	return flowpb.TraceObservationPoint_TO_NETWORK
}

// sent reports whether a dropped packet was on its way out (egress): sent
// by a local pod, or, between other addresses, leaving the component.
func sent(srcLocal, dstLocal bool, dir DirTag) bool {
	switch {
	case srcLocal:
		return true
	case dstLocal:
		return false
	}
	in, known := dir.Inbound()
	return known && !in
}

// maxDropRefs bounds the pinned drop reason names: PktMon has a few
// hundred reasons, so more distinct codes mean a corrupt stream, whose
// drops then show their Hubble reason without a PktMon name.
const maxDropRefs = 1024

// dropNameRef returns the reference of a PktMon drop reason's name in
// Tables.Names, interning and pinning it on first use.
func (d *Decoder) dropNameRef(code uint32) intern.Ref {
	if ref, ok := d.dropRefs[code]; ok {
		return ref
	}
	if len(d.dropRefs) >= maxDropRefs {
		return 0
	}
	name := DropReasonName(code)
	ref := d.tables.Names.Intern(dropReasonKeyPrefix+name, func() []string { return []string{name} })
	d.tables.Names.Pin(ref)
	d.dropRefs[code] = ref
	return ref
}

func boolIndex(b bool) int {
	if b {
		return 1
	}
	return 0
}
