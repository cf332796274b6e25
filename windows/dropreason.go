package windows

import (
	"strconv"

	flowpb "github.com/cilium/cilium/api/v1/flow"
)

// reasonBlock is a run of PktMon drop reason codes from base.
type reasonBlock struct {
	base  uint32
	names []string
}

// DropReasonName returns PktMon's name of a drop reason code
// ("Drop_FilteredVLAN"), or "reason N" for a code it does not name (a newer
// Windows release's). Zero is a real reason, Drop_Unknown.
func DropReasonName(code uint32) string {
	for _, b := range pktmonReasonBlocks {
		if code >= b.base && code-b.base < uint32(len(b.names)) {
			if n := b.names[code-b.base]; n != "" {
				return n
			}
			break
		}
	}
	return "reason " + strconv.FormatUint(uint64(code), 10)
}

// hubbleDropReasons maps PktMon drop reasons to the Hubble reason that
// means the closest thing; the rest are DROP_REASON_UNKNOWN, and every drop
// keeps its PktMon name in the flow's summary as well.
var hubbleDropReasons = map[uint32]flowpb.DropReason{
	// Filters, ACLs and guards: policy.
	8:    flowpb.DropReason_POLICY_DENIED, // Filtered
	12:   flowpb.DropReason_POLICY_DENIED, // FailedSecurityPolicy
	34:   flowpb.DropReason_POLICY_DENIED, // FailedPacketFilter
	704:  flowpb.DropReason_POLICY_DENIED, // BlockBroadcast
	705:  flowpb.DropReason_POLICY_DENIED, // BlockNonIp
	715:  flowpb.DropReason_POLICY_DENIED, // Intercept
	716:  flowpb.DropReason_POLICY_DENIED, // InterceptBlock
	718:  flowpb.DropReason_POLICY_DENIED, // PortBlocked
	909:  flowpb.DropReason_POLICY_DENIED, // NL_InspectionDrop (WFP)
	911:  flowpb.DropReason_POLICY_DENIED, // NL_AdministrativelyProhibited
	945:  flowpb.DropReason_POLICY_DENIED, // NL_AdministrativelyConfigured
	1207: flowpb.DropReason_POLICY_DENIED, // INET_ReceiveInspection (WFP)
	1231: flowpb.DropReason_POLICY_DENIED, // INET_AcceptInspection (WFP)
	1408: flowpb.DropReason_POLICY_DENIED, // Ipsec_AuthFirewallDrop

	// Malformed packets.
	1:    flowpb.DropReason_INVALID_PACKET_DROPPED, // InvalidData
	2:    flowpb.DropReason_INVALID_PACKET_DROPPED, // InvalidPacket
	28:   flowpb.DropReason_INVALID_PACKET_DROPPED, // InvalidFirstNBTooSmall
	206:  flowpb.DropReason_INVALID_PACKET_DROPPED, // InvalidLength
	208:  flowpb.DropReason_INVALID_PACKET_DROPPED, // FrameTooLong
	209:  flowpb.DropReason_INVALID_PACKET_DROPPED, // FrameTooShort
	210:  flowpb.DropReason_INVALID_PACKET_DROPPED, // FrameLengthError
	211:  flowpb.DropReason_INVALID_PACKET_DROPPED, // CrcError
	212:  flowpb.DropReason_INVALID_PACKET_DROPPED, // BadFrameChecksum
	213:  flowpb.DropReason_INVALID_PACKET_DROPPED, // FcsError
	604:  flowpb.DropReason_INVALID_PACKET_DROPPED, // FL_InvalidPacketLength
	905:  flowpb.DropReason_INVALID_PACKET_DROPPED, // NL_BadLength
	906:  flowpb.DropReason_INVALID_PACKET_DROPPED, // NL_MalformedHeader
	912:  flowpb.DropReason_INVALID_PACKET_DROPPED, // NL_BadChecksum
	1202: flowpb.DropReason_INVALID_PACKET_DROPPED, // INET_HeaderInvalid
	1203: flowpb.DropReason_INVALID_PACKET_DROPPED, // INET_ChecksumInvalid
	1405: flowpb.DropReason_INVALID_PACKET_DROPPED, // Ipsec_InvalidPacket
	1501: flowpb.DropReason_INVALID_PACKET_DROPPED, // NetCx_NetPacketLayoutParseFailure
	1502: flowpb.DropReason_INVALID_PACKET_DROPPED, // NetCx_SoftwareChecksumFailure

	// Addresses.
	11:   flowpb.DropReason_INVALID_SOURCE_MAC,        // UnauthorizedMAC
	16:   flowpb.DropReason_INVALID_SOURCE_MAC,        // MacSpoofing
	27:   flowpb.DropReason_INVALID_SOURCE_MAC,        // InvalidSourceMac
	709:  flowpb.DropReason_INVALID_SOURCE_MAC,        // MacGuard
	26:   flowpb.DropReason_INVALID_DESTINATION_MAC,   // InvalidDestMac
	707:  flowpb.DropReason_INVALID_SOURCE_IP,         // Ipv4Guard
	708:  flowpb.DropReason_INVALID_SOURCE_IP,         // Ipv6Guard
	901:  flowpb.DropReason_INVALID_SOURCE_IP,         // NL_BadSourceAddress
	1000: flowpb.DropReason_INVALID_SOURCE_IP,         // NL_SourceViolation
	1200: flowpb.DropReason_INVALID_SOURCE_IP,         // INET_SourceUnspecified
	902:  flowpb.DropReason_UNKNOWN_L3_TARGET_ADDRESS, // NL_NotLocallyDestined

	// Routing and delivery.
	907:  flowpb.DropReason_FIB_LOOKUP_FAILED,                         // NL_NoRoute
	928:  flowpb.DropReason_FIB_LOOKUP_FAILED,                         // NL_RoutingFailure
	1313: flowpb.DropReason_FIB_LOOKUP_FAILED,                         // SlbMux_NoRoute
	711:  flowpb.DropReason_NO_MATCHING_LOCAL_CONTAINER_FOUND,         // UnicastNoDestination
	914:  flowpb.DropReason_TTL_EXCEEDED,                              // NL_HopLimitExceeded
	1310: flowpb.DropReason_TTL_EXCEEDED,                              // SlbMux_HopLimitExceeded
	903:  flowpb.DropReason_UNKNOWN_L4_PROTOCOL,                       // NL_ProtocolUnreachable
	904:  flowpb.DropReason_SOCKET_LOOKUP_FAILED,                      // NL_PortUnreachable
	1204: flowpb.DropReason_SOCKET_LOOKUP_FAILED,                      // INET_EndpointNotFound
	603:  flowpb.DropReason_UNSUPPORTED_L3_PROTOCOL,                   // FL_InvalidEthernetType
	226:  flowpb.DropReason_UNSUPPORTED_L2_PROTOCOL,                   // UnallowedEtherType
	925:  flowpb.DropReason_INVALID_IPV6_EXTENSION_HEADER,             // NL_ExtensionHeadersFailure
	999:  flowpb.DropReason_FIRST_LOGICAL_DATAGRAM_FRAGMENT_NOT_FOUND, // NL_FirstFragmentIncomplete
	1302: flowpb.DropReason_FIRST_LOGICAL_DATAGRAM_FRAGMENT_NOT_FOUND, // SlbMux_FirstFragmentMiss
	1306: flowpb.DropReason_SERVICE_BACKEND_NOT_FOUND,                 // SlbMux_NoMatchingStaticMapping
	1323: flowpb.DropReason_SERVICE_BACKEND_NOT_FOUND,                 // SlbMux_DipLookupFailure

	// VLANs.
	9:   flowpb.DropReason_VLAN_FILTERED, // FilteredVLAN
	10:  flowpb.DropReason_VLAN_FILTERED, // UnauthorizedVLAN
	25:  flowpb.DropReason_VLAN_FILTERED, // InvalidVlanFormat
	36:  flowpb.DropReason_VLAN_FILTERED, // FilteredIsolationUntagged
	225: flowpb.DropReason_VLAN_FILTERED, // VlanSpoofing

	// Rate limits.
	30:  flowpb.DropReason_DROP_RATE_LIMITED, // StormLimit
	702: flowpb.DropReason_DROP_RATE_LIMITED, // ArpLimiter
	703: flowpb.DropReason_DROP_RATE_LIMITED, // DhcpLimiter
	714: flowpb.DropReason_DROP_RATE_LIMITED, // Icmpv6Limiter
	962: flowpb.DropReason_DROP_RATE_LIMITED, // NL_IcmpInterfaceRateLimit
	963: flowpb.DropReason_DROP_RATE_LIMITED, // NL_IcmpPathRateLimit

	// Endpoints not ready.
	4:   flowpb.DropReason_DROP_EP_NOT_READY, // NotReady
	712: flowpb.DropReason_DROP_EP_NOT_READY, // UnicastPortNotReady

	// TCP state.
	1206: flowpb.DropReason_UNKNOWN_CONNECTION_TRACKING_STATE, // INET_SessionState
	1219: flowpb.DropReason_UNKNOWN_CONNECTION_TRACKING_STATE, // INET_TcbRemoved
	1224: flowpb.DropReason_UNKNOWN_CONNECTION_TRACKING_STATE, // INET_TcbNotInTcbTable
}

// HubbleDropReason maps a PktMon drop reason code to the closest Hubble
// drop reason.
func HubbleDropReason(code uint32) flowpb.DropReason {
	return hubbleDropReasons[code]
}
