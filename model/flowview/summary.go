package flowview

import (
	"strconv"
	"strings"

	"github.com/foveanet/fovea/model/record"
)

// Summary returns the flow's one-line summary exactly as Hubble's L3/L4
// parser writes it, since `hubble observe` prints it as the last column and
// users grep for it: "TCP Flags: SYN, ACK", "UDP", "SCTP",
// "ICMPv4 EchoRequest", "ICMPv6 DestinationUnreachable(PortUnreachable)".
func Summary(r *record.Record) string {
	switch r.Proto {
	case record.ProtoTCP:
		return tcpSummaries[r.TCPFlags&tcpFlagMask]
	case record.ProtoUDP:
		return "UDP"
	case record.ProtoSCTP:
		return "SCTP"
	case record.ProtoICMP:
		return "ICMPv4 " + icmpString(icmpv4Names, r.ICMPType, r.ICMPCode)
	case record.ProtoICMPv6:
		return "ICMPv6 " + icmpString(icmpv6Names, r.ICMPType, r.ICMPCode)
	}
	if r.IsIPv6() {
		return "IPv6"
	}
	return "IPv4"
}

// DropSummary is the summary of a packet the kernel dropped: the packet's
// summary and the kernel's own drop reason (enum skb_drop_reason without its
// SKB_DROP_REASON_ prefix), which is finer than the Hubble reason in
// drop_reason_desc: "TCP Flags: SYN; kernel drop reason: NETFILTER_DROP".
func DropSummary(r *record.Record, kernelReason string) string {
	return Summary(r) + "; kernel drop reason: " + kernelReason
}

// RetransmissionSummary is the summary of a TCP segment the local stack
// retransmitted: "TCP Retransmission, Flags: ACK, PSH". Hubble has no
// retransmission event; the prefix keeps them apart from the "TCP Flags: "
// of other traces when grepping `hubble observe` output.
func RetransmissionSummary(r *record.Record) string {
	return retransmissionSummaries[r.TCPFlags&tcpFlagMask]
}

// tcpFlagOrder is the order Hubble lists flags in (not the header's).
var tcpFlagOrder = [...]struct {
	bit  uint16
	name string
}{
	{record.TCPSyn, "SYN"}, {record.TCPAck, "ACK"}, {record.TCPRst, "RST"},
	{record.TCPFin, "FIN"}, {record.TCPPsh, "PSH"}, {record.TCPUrg, "URG"},
	{record.TCPEce, "ECE"}, {record.TCPCwr, "CWR"}, {record.TCPNs, "NS"},
}

// TCPFlagNames lists the set flags as Hubble does: "SYN, ACK".
func TCPFlagNames(flags uint16) string {
	var b strings.Builder
	for _, f := range tcpFlagOrder {
		if flags&f.bit == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(f.name)
	}
	return b.String()
}

type icmpType struct {
	name  string
	codes map[uint8]string // nil: the type does not use the code field
}

// icmpString follows gopacket's ICMPv4TypeCode/ICMPv6TypeCode String methods,
// which Hubble's parser uses for its summaries.
func icmpString(names map[uint8]icmpType, typ, code uint8) string {
	t, ok := names[typ]
	switch {
	case !ok:
		return strconv.Itoa(int(typ)) + "(" + strconv.Itoa(int(code)) + ")"
	case t.codes == nil && code == 0:
		return t.name
	}
	if c, ok := t.codes[code]; ok {
		return t.name + "(" + c + ")"
	}
	return t.name + "(Code: " + strconv.Itoa(int(code)) + ")"
}

var icmpv4Names = map[uint8]icmpType{
	0: {"EchoReply", nil},
	3: {"DestinationUnreachable", map[uint8]string{
		0: "Net", 1: "Host", 2: "Protocol", 3: "Port", 4: "FragmentationNeeded",
		5: "SourceRoutingFailed", 6: "NetUnknown", 7: "HostUnknown", 8: "SourceIsolated",
		9: "NetAdminProhibited", 10: "HostAdminProhibited", 11: "NetTOS", 12: "HostTOS",
		13: "CommAdminProhibited", 14: "HostPrecedence", 15: "PrecedenceCutoff",
	}},
	4:  {"SourceQuench", nil},
	5:  {"Redirect", map[uint8]string{0: "Net", 1: "Host", 2: "TOS+Net", 3: "TOS+Host"}},
	8:  {"EchoRequest", nil},
	9:  {"RouterAdvertisement", nil},
	10: {"RouterSolicitation", nil},
	11: {"TimeExceeded", map[uint8]string{0: "TTLExceeded", 1: "FragmentReassemblyTimeExceeded"}},
	12: {"ParameterProblem", map[uint8]string{0: "PointerIndicatesError", 1: "MissingOption", 2: "BadLength"}},
	13: {"TimestampRequest", nil},
	14: {"TimestampReply", nil},
	15: {"InfoRequest", nil},
	16: {"InfoReply", nil},
	17: {"AddressMaskRequest", nil},
	18: {"AddressMaskReply", nil},
}

var icmpv6Names = map[uint8]icmpType{
	1: {"DestinationUnreachable", map[uint8]string{
		0: "NoRouteToDst", 1: "AdminProhibited", 2: "BeyondScopeOfSrc", 3: "AddressUnreachable",
		4: "PortUnreachable", 5: "SrcAddressFailedPolicy", 6: "RejectRouteToDst",
	}},
	2:   {"PacketTooBig", nil},
	3:   {"TimeExceeded", map[uint8]string{0: "HopLimitExceeded", 1: "FragmentReassemblyTimeExceeded"}},
	4:   {"ParameterProblem", map[uint8]string{0: "ErroneousHeaderField", 1: "UnrecognizedNextHeader", 2: "UnrecognizedIPv6Option"}},
	128: {"EchoRequest", nil},
	129: {"EchoReply", nil},
	133: {"RouterSolicitation", nil},
	134: {"RouterAdvertisement", nil},
	135: {"NeighborSolicitation", nil},
	136: {"NeighborAdvertisement", nil},
	137: {"Redirect", nil},
}
