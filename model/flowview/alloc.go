package flowview

import (
	"unsafe"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// messages holds every message a flow built from a record points to that
// is its own, so that building one costs one allocation for all of them;
// they live and die with the flow. Only the L4 of the record's protocol is
// used.
type messages struct {
	flow      flowpb.Flow
	time      timestamppb.Timestamp
	ip        flowpb.IP
	l4        flowpb.Layer4
	eventType flowpb.CiliumEventType
	isReply   wrapperspb.BoolValue

	tcp    flowpb.Layer4_TCP
	tcpM   flowpb.TCP
	udp    flowpb.Layer4_UDP
	udpM   flowpb.UDP
	sctp   flowpb.Layer4_SCTP
	sctpM  flowpb.SCTP
	icmp4  flowpb.Layer4_ICMPv4
	icmpM  flowpb.ICMPv4
	icmp6  flowpb.Layer4_ICMPv6
	icmp6M flowpb.ICMPv6
}

// flowStringsLen fits a UUID and two IPv6 addresses.
const flowStringsLen = 36 + 2*39

// stringsBuf collects a flow's own strings (UUID, addresses) in one
// allocation; each is a view of its part, which is never written again.
type stringsBuf struct{ b []byte }

// add appends what appendTo writes and returns it as a string sharing the
// buffer. Bytes once written are never written again (an append past the
// capacity copies to a new array and leaves the old one as it is), so the
// strings stay valid; sizing the buffer up front keeps it one allocation.
func (s *stringsBuf) add(appendTo func([]byte) []byte) string {
	start := len(s.b)
	s.b = appendTo(s.b)
	if len(s.b) == start {
		return ""
	}
	return unsafe.String(&s.b[start], len(s.b)-start)
}
