package flowmetrics

import (
	"encoding/binary"
	"strconv"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"github.com/gopacket/gopacket/layers"

	"github.com/foveanet/fovea/model/record"
)

// The label values handlers write, as Hubble writes them.

// protocolName is the protocol label of a flow (Hubble's FlowProtocol):
// the L7 protocol of an L7 flow, else its L4 protocol.
func protocolName(ev *event) string {
	if ev.Rec.Kind == record.KindL7 {
		switch {
		case ev.dns != nil:
			return "DNS"
		case ev.http != nil:
			return "HTTP"
		}
		return "Unknown L7"
	}
	if name := l4Names[ev.Rec.Proto]; name != "" {
		return name
	}
	return "Unknown L4"
}

// l4Names name the L4 protocols a flow carries a layer for, by IANA number.
var l4Names = [256]string{
	record.ProtoTCP:    "TCP",
	record.ProtoUDP:    "UDP",
	record.ProtoICMP:   "ICMPv4",
	record.ProtoICMPv6: "ICMPv6",
	record.ProtoSCTP:   "SCTP",
}

// verdictNames are flow.Verdict's names, by value, computed once so that
// no value allocates a name.
var verdictNames = func() (names [256]string) {
	for i := range names {
		names[i] = flowpb.Verdict(i).String()
	}
	return names
}()

// traceSubtypeNames are the names Cilium's monitor gives the event
// sub-types of trace events (which are observation points), by sub-type.
var traceSubtypeNames = [...]string{
	0: "to-endpoint", 1: "to-proxy", 2: "to-host", 3: "to-stack", 4: "to-overlay",
	5: "from-endpoint", 6: "from-proxy", 7: "from-host", 8: "from-stack", 9: "from-overlay",
	10: "from-network", 11: "to-network", 12: "from-crypto", 13: "to-crypto",
}

// familyNames are the family label's values: IPv4, IPv6.
func familyName(ipv6 bool) string {
	if ipv6 {
		return "IPv6"
	}
	return "IPv4"
}

// nameCache remembers names that would allocate each time they were
// written (enum values' and ICMP types' names). It is used by one
// goroutine and bounded by its key's range.
type nameCache[K comparable] struct {
	names map[K]string
	name  func(K) string
}

func newNameCache[K comparable](name func(K) string) *nameCache[K] {
	return &nameCache[K]{names: make(map[K]string), name: name}
}

func (c *nameCache[K]) get(k K) string {
	if s, ok := c.names[k]; ok {
		return s
	}
	s := c.name(k)
	c.names[k] = s
	return s
}

func dropReasonName(r uint16) string { return flowpb.DropReason(r).String() }

func icmpv4Name(tc uint16) string {
	return layers.CreateICMPv4TypeCode(uint8(tc>>8), uint8(tc)).String()
}

func icmpv6Name(tc uint16) string {
	return layers.CreateICMPv6TypeCode(uint8(tc>>8), uint8(tc)).String()
}

// rcodeNames are the DNS response codes' names as Hubble's DNS metrics
// write them (IANA's descriptions); a code not listed is written empty.
var rcodeNames = map[uint32]string{
	0:  "No Error",
	1:  "Format Error",
	2:  "Server Failure",
	3:  "Non-Existent Domain",
	4:  "Not Implemented",
	5:  "Query Refused",
	6:  "Name Exists when it should not",
	7:  "RR Set Exists when it should not",
	8:  "RR Set that should exist does not",
	9:  "Not Authorized",
	10: "Name not contained in zone",
	11: "DSO-TYPE Not Implemented",
	16: "Bad OPT Version",
	17: "Key not recognized",
	18: "Signature out of time window",
	19: "Bad TKEY Mode",
	20: "Duplicate key name",
	21: "Algorithm not supported",
	22: "Bad Truncation",
	23: "Bad/missing Server Cookie",
}

// appendUint appends n in decimal as one value.
func appendUint(key []byte, n uint64) []byte {
	at := len(key)
	key = strconv.AppendUint(beginValue(key), n, 10)
	binary.BigEndian.PutUint16(key[at:], uint16(len(key)-at-valueHeader))
	return key
}
