package bpf

import (
	"strconv"

	flowpb "github.com/cilium/cilium/api/v1/flow"
)

// kernelDropReasons maps names of the kernel's enum skb_drop_reason (without
// the SKB_DROP_REASON_ prefix) to the Hubble drop reason that means the same.
// Names without an equivalent map to DROP_REASON_UNKNOWN; the kernel name is
// still reported (see the Summary in model/flowview).
var kernelDropReasons = map[string]flowpb.DropReason{
	"NETFILTER_DROP":    flowpb.DropReason_POLICY_DENIED,
	"BPF_CGROUP_EGRESS": flowpb.DropReason_POLICY_DENIED,
	"NO_SOCKET":         flowpb.DropReason_SOCKET_LOOKUP_FAILED,

	"PKT_TOO_SMALL": flowpb.DropReason_INVALID_PACKET_DROPPED,
	"HDR_TRUNC":     flowpb.DropReason_INVALID_PACKET_DROPPED,
	"IP_INHDR":      flowpb.DropReason_INVALID_PACKET_DROPPED,
	"IP_CSUM":       flowpb.DropReason_INVALID_PACKET_DROPPED,
	"TCP_CSUM":      flowpb.DropReason_INVALID_PACKET_DROPPED,
	"UDP_CSUM":      flowpb.DropReason_INVALID_PACKET_DROPPED,
	"ICMP_CSUM":     flowpb.DropReason_INVALID_PACKET_DROPPED,
	"SKB_CSUM":      flowpb.DropReason_INVALID_PACKET_DROPPED,
	"INVALID_PROTO": flowpb.DropReason_INVALID_PACKET_DROPPED,
	"TCP_FLAGS":     flowpb.DropReason_INVALID_PACKET_DROPPED,

	"IP_RPFILTER":       flowpb.DropReason_INVALID_SOURCE_IP,
	"IP_INVALID_SOURCE": flowpb.DropReason_INVALID_SOURCE_IP,
	"IP_LOCAL_SOURCE":   flowpb.DropReason_INVALID_SOURCE_IP,

	"IP_NOPROTO":      flowpb.DropReason_UNKNOWN_L4_PROTOCOL,
	"UNHANDLED_PROTO": flowpb.DropReason_UNSUPPORTED_L3_PROTOCOL,
	"IPV6DISABLED":    flowpb.DropReason_UNSUPPORTED_L3_PROTOCOL,

	"IP_OUTNOROUTES":  flowpb.DropReason_FIB_LOOKUP_FAILED,
	"IP_INNOROUTES":   flowpb.DropReason_FIB_LOOKUP_FAILED,
	"IP_INADDRERRORS": flowpb.DropReason_UNKNOWN_L3_TARGET_ADDRESS,
	"IP_INVALID_DEST": flowpb.DropReason_UNKNOWN_L3_TARGET_ADDRESS,

	"IPV6_BAD_EXTHDR":     flowpb.DropReason_INVALID_IPV6_EXTENSION_HEADER,
	"VXLAN_VNI_NOT_FOUND": flowpb.DropReason_INVALID_VNI,
}

// dropReasonPrefix starts every enum skb_drop_reason value name except the
// two that are not drops.
const dropReasonPrefix = "SKB_DROP_REASON_"

// dropReasonKeyPrefix keys kernel drop reason names in Tables.Names apart
// from DNS names.
const dropReasonKeyPrefix = "skb_drop_reason/"

// dropReasonNames holds the kernel's enum skb_drop_reason, read from its BTF
// because values differ between kernels while names are stable.
type dropReasonNames map[uint32]string

// name returns the kernel's name for code without the SKB_DROP_REASON_
// prefix, or the code in decimal when the kernel does not name it (a
// subsystem's reason, or BTF that lacks the enum).
func (n dropReasonNames) name(code uint32) string {
	if s, ok := n[code]; ok {
		return s
	}
	return "reason " + strconv.FormatUint(uint64(code), 10)
}

// hubble maps a kernel drop reason to the Hubble reason that means the same.
func (n dropReasonNames) hubble(code uint32) flowpb.DropReason {
	return kernelDropReasons[n[code]]
}
