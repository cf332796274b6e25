// Command genfixtures writes the Windows source's test fixtures under
// windows/testdata, byte by byte as Windows and its providers lay them out,
// independently of the parsers they test (nothing here calls package
// windows):
//
//   - pktmon.etw: a stream of ETW events, each an EVENT_RECORD (evntcons.h,
//     64-bit layout, 112 bytes, pointers zero) followed by its user data:
//     Microsoft-Windows-PktMon events 160 (packet) and 170 (drop), version 0,
//     laid out as the provider's manifest declares them, and an RT_LostEvent
//     notice; the node's traffic of pods web-0 and client-0.
//   - hns_endpoints.json: the node's HNS endpoints, as HcnEnumerateEndpoints
//     and HcnQueryEndpointProperties (schema 2) return them.
//   - hns_endpointstats.json: HNS endpoint statistics, as the HNS v1 call
//     GET /endpointstats/<id> returns them, one object per endpoint.
//   - pktmon_list.json: `pktmon list --json`, the components the stream
//     names: groups of components with Id, Name, Type and name/value
//     properties, the MAC address among them.
//   - vfp_ports.txt: `vfpctrl /list-vmswitch-port` output, the node's two
//     pod ports and the host vNIC's.
//   - vfp_port_counters.txt: `vfpctrl /port <guid> /get-port-counter`
//     output for web-0's port, CRLF-terminated as vfpctrl prints it.
//
// Run it with `go generate ./windows/` after changing the scenario; the
// tests' golden files then change with it (go test ./windows -update).
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	pt "github.com/foveanet/fovea/model/packet/packettest"
	"github.com/foveanet/fovea/model/record"
)

// The node: two local pods behind HNS endpoints, a remote pod, the node.
const (
	webIP      = "10.244.1.10"
	webIPv6    = "fd00:10:244:1::a"
	clientIP   = "10.244.1.11"
	remoteIP   = "10.244.2.20" // db-0, on another node
	nodeIP     = "10.0.0.4"
	peerNodeIP = "10.0.0.5" // db-0's node
	apiserver  = "10.0.0.1"
)

var (
	webMAC    = [6]byte{0x00, 0x15, 0x5d, 0x01, 0x0a, 0x0a}
	clientMAC = [6]byte{0x00, 0x15, 0x5d, 0x01, 0x0a, 0x0b}
	gwMAC     = [6]byte{0x00, 0x15, 0x5d, 0x01, 0x0a, 0x01} // the vSwitch's host vNIC
	nicMAC    = [6]byte{0x00, 0x0d, 0x3a, 0x11, 0x22, 0x33} // the physical NIC
)

// PktMon component ids of the node (as `pktmon list` would number them).
const (
	compNIC        = 2 // the physical NIC's miniport
	compClientPort = 5 // vSwitch port of client-0
	compWebPort    = 6 // vSwitch port of web-0
	compVFP        = 7 // the VFP extension
	compTCPIP      = 9 // the host's TCP/IP stack
)

// DirTag values (PktMon manifest): 1 In, 2 Out, 3 Rx, 4 Tx, 5 Ingress, 6 Egress.
const (
	dirIn      = 1
	dirOut     = 2
	dirRx      = 3
	dirTx      = 4
	dirIngress = 5
	dirEgress  = 6
)

// PacketType values (PktMon manifest): 1 Ethernet, 3 raw IP.
const (
	typeEthernet = 1
	typeIP       = 3
)

// Providers, as their GUIDs lie in memory: Data1 (u32 LE), Data2 (u16 LE),
// Data3 (u16 LE), Data4 (8 bytes as written).
var (
	// Microsoft-Windows-PktMon {4d4f80d9-c8bd-4d73-bb5b-19c90402c5ac}
	pktmonGUID = guid(0x4d4f80d9, 0xc8bd, 0x4d73, [8]byte{0xbb, 0x5b, 0x19, 0xc9, 0x04, 0x02, 0xc5, 0xac})
	// RT_LostEvent {6a399ae0-4bc6-4de9-870b-3657f8947e7e}
	lostGUID = guid(0x6a399ae0, 0x4bc6, 0x4de9, [8]byte{0x87, 0x0b, 0x36, 0x57, 0xf8, 0x94, 0x7e, 0x7e})
)

// start is when the scenario begins; each event is 1 µs after the last.
var start = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func main() {
	out := flag.String("out", "testdata", "directory to write the fixtures into")
	flag.Parse()
	files := map[string][]byte{
		"pktmon.etw":             pktmonStream(),
		"hns_endpoints.json":     []byte(hnsEndpoints),
		"hns_endpointstats.json": []byte(hnsEndpointStats),
		"vfp_port_counters.txt":  []byte(vfpPortCounters),
		"vfp_ports.txt":          []byte(vfpPorts),
		"pktmon_list.json":       []byte(pktmonList),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(*out, name), b, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// stream accumulates events.
type stream struct {
	b []byte
	t time.Time
}

// pktmonStream is the scenario, in the order a node would log it.
func pktmonStream() []byte {
	s := &stream{t: start}
	synToDB := eth(clientMAC, gwMAC, pt.IPv4(clientIP, remoteIP, record.ProtoTCP, pt.TCP(40000, 5432, record.TCPSyn)))
	// 1. client-0 opens a connection to db-0 on another node: logged at
	// its vSwitch port, at VFP and at the NIC. One flow: FROM_ENDPOINT.
	s.packet(1001, 1, 1, dirIngress, typeEthernet, compClientPort, 0, synToDB)
	s.packet(1001, 1, 2, dirIngress, typeEthernet, compVFP, 0, synToDB)
	s.packet(1001, 1, 3, dirTx, typeEthernet, compNIC, 0, synToDB)
	// 2. db-0 answers: logged at the NIC, then at client-0's port. One
	// flow: FROM_NETWORK, where it was first seen.
	synAck := eth(gwMAC, clientMAC, pt.IPv4(remoteIP, clientIP, record.ProtoTCP, pt.TCP(5432, 40000, record.TCPSyn|record.TCPAck)))
	s.packet(1002, 1, 1, dirRx, typeEthernet, compNIC, 0, synAck)
	s.packet(1002, 1, 2, dirEgress, typeEthernet, compClientPort, 0, synAck)
	// 3. db-0 tries web-0:8080; VFP drops it on an ACL
	// (Drop_FailedSecurityPolicy, 12; location 0xE0040000: subsystem 4).
	denied := eth(gwMAC, webMAC, pt.IPv4(remoteIP, webIP, record.ProtoTCP, pt.TCP(41000, 8080, record.TCPSyn)))
	s.packet(1003, 1, 1, dirRx, typeEthernet, compNIC, 0, denied)
	s.drop(1003, 1, 2, dirIngress, typeEthernet, compVFP, 12, 0xe0040000, denied)
	// 4. web-0 pings 192.0.2.1, which the host has no route to
	// (Drop_NL_NoRoute, 907, in the host's IP layer: subsystem 8).
	ping := eth(webMAC, gwMAC, pt.IPv4(webIP, "192.0.2.1", record.ProtoICMP, pt.ICMP(8, 0, 77)))
	s.packet(1004, 1, 1, dirIngress, typeEthernet, compWebPort, 0, ping)
	s.drop(1004, 1, 2, dirIn, typeEthernet, compTCPIP, 907, 0xe0080000, ping)
	// 5. web-0 asks a DNS server over IPv6, logged by the IP stack
	// without a link header (PacketType 3).
	dns6 := pt.IPv6(webIPv6, "fd00::53", record.ProtoUDP, pt.UDP(53000, 53))
	s.packet(1005, 1, 1, dirOut, typeIP, compTCPIP, 0, dns6)
	// 6. A reason this Windows release does not name (4242): kept as its
	// number, no Hubble equivalent.
	odd := pt.IPv6("fd00::99", webIPv6, record.ProtoUDP, pt.UDP(1, 2))
	s.drop(1006, 1, 1, dirRx, typeIP, compNIC, 4242, 0xe0010000, odd)
	// 7. The node talks to the API server: host traffic, at the NIC only.
	api := eth(gwMAC, [6]byte{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc}, pt.IPv4(nodeIP, apiserver, record.ProtoTCP, pt.TCP(50000, 443, record.TCPAck|record.TCPPsh)))
	s.packet(1007, 1, 1, dirTx, typeEthernet, compNIC, 0, api)
	// 8. ARP between the node and its gateway: no flow.
	arp := pt.EthernetMAC(gwMAC, [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 0x0806, make([]byte, 28))
	s.packet(1008, 1, 1, dirTx, typeEthernet, compNIC, 0, arp)
	// 9. ETW lost events of the session (RT_LostEvent, opcode 32
	// RTLostEvent); the notice has no user data.
	s.event(lostGUID, 0, 0, 32, nil)
	// 10. The same SYN as 1 again, in a new group: a retransmission is a
	// new packet and a new flow.
	s.packet(1009, 1, 1, dirIngress, typeEthernet, compClientPort, 0, synToDB)
	// 11. The kubelet probes web-0 from the node: first seen going out
	// of web-0's vSwitch port towards the pod, TO_ENDPOINT.
	probe := eth(gwMAC, webMAC, pt.IPv4(nodeIP, webIP, record.ProtoTCP, pt.TCP(51000, 8080, record.TCPSyn)))
	s.packet(1010, 1, 1, dirEgress, typeEthernet, compWebPort, 0, probe)
	// 12. On the overlay network db-0 reaches web-0 again: the NIC logs
	// the VXLAN envelope (node to node, UDP 4789, VNI 4096), VFP and
	// web-0's port the decapsulated packet, all one packet group. One
	// flow, the pod packet's, first seen at VFP coming in: FROM_NETWORK.
	inner := eth(gwMAC, webMAC, pt.IPv4(remoteIP, webIP, record.ProtoTCP, pt.TCP(42000, 8080, record.TCPSyn)))
	vxlan := append([]byte{0x08, 0, 0, 0, 0x00, 0x10, 0x00, 0}, inner...) // flags I, VNI 4096
	envelope := eth([6]byte{0x00, 0x0d, 0x3a, 0x11, 0x22, 0x44}, nicMAC,
		pt.IPv4(peerNodeIP, nodeIP, record.ProtoUDP, append(pt.UDP(61000, 4789), vxlan...)))
	s.packet(1011, 1, 1, dirRx, typeEthernet, compNIC, 0, envelope)
	s.packet(1011, 1, 2, dirIngress, typeEthernet, compVFP, 0, inner)
	s.packet(1011, 1, 3, dirEgress, typeEthernet, compWebPort, 0, inner)
	return s.b
}

func eth(src, dst [6]byte, ip []byte) []byte { return pt.EthernetMAC(src, dst, 0x0800, ip) }

// packet appends a PktMon event 160.
func (s *stream) packet(group uint64, number, appearance, dir, typ, comp uint16, reason uint32, frame []byte) {
	s.event(pktmonGUID, 160, 0, 0, pktmonPayload(group, number, appearance, dir, typ, comp, reason, 0, frame))
}

// drop appends a PktMon event 170.
func (s *stream) drop(group uint64, number, appearance, dir, typ, comp uint16, reason, location uint32, frame []byte) {
	s.event(pktmonGUID, 170, 0, 0, pktmonPayload(group, number, appearance, dir, typ, comp, reason, location, frame))
}

// pktmonPayload lays out the user data of events 160 and 170, version 0
// (packed, little-endian).
func pktmonPayload(group uint64, number, appearance, dir, typ, comp uint16, reason, location uint32, frame []byte) []byte {
	le := binary.LittleEndian
	b := make([]byte, 34, 34+len(frame))
	le.PutUint64(b[0:], group)               // @0  PktGroupId
	le.PutUint16(b[8:], number)              // @8  PktNumber
	le.PutUint16(b[10:], appearance)         // @10 AppearanceCount
	le.PutUint16(b[12:], dir)                // @12 DirTag
	le.PutUint16(b[14:], typ)                // @14 PacketType
	le.PutUint16(b[16:], comp)               // @16 ComponentId
	le.PutUint16(b[18:], 1)                  // @18 EdgeId: the component's first edge
	le.PutUint16(b[20:], 0)                  // @20 FilterId: no filter (capture all)
	le.PutUint32(b[22:], reason)             // @22 DropReason (0 on event 160)
	le.PutUint32(b[26:], location)           // @26 DropLocation (0 on event 160)
	le.PutUint16(b[30:], uint16(len(frame))) // @30 OriginalPayloadSize
	le.PutUint16(b[32:], uint16(len(frame))) // @32 LoggedPayloadSize: all of it (pkt-size ≥ frame)
	return append(b, frame...)               // @34 Payload
}

// event appends an EVENT_RECORD and its user data.
func (s *stream) event(provider [16]byte, id uint16, version, opcode uint8, userData []byte) {
	le := binary.LittleEndian
	r := make([]byte, 112)
	// EVENT_HEADER, 80 bytes.
	le.PutUint16(r[0:], 80)     // @0  Size
	le.PutUint16(r[2:], 0)      // @2  HeaderType
	le.PutUint16(r[4:], 0x0040) // @4  Flags: EVENT_HEADER_FLAG_64_BIT_HEADER
	le.PutUint16(r[6:], 0)      // @6  EventProperty
	le.PutUint32(r[8:], 4)      // @8  ThreadId: the System process's thread
	le.PutUint32(r[12:], 4)     // @12 ProcessId: System
	// @16 TimeStamp: FILETIME, 100 ns since 1601-01-01, as ETW converts
	// stamps for real-time consumers.
	le.PutUint64(r[16:], uint64(s.t.UnixNano()/100+116444736000000000))
	copy(r[24:40], provider[:]) // @24 ProviderId
	// @40 EventDescriptor, 16 bytes.
	le.PutUint16(r[40:], id) // @40 Id
	r[42] = version          // @42 Version
	r[43] = 0                // @43 Channel
	r[44] = 4                // @44 Level: information
	r[45] = opcode           // @45 Opcode
	le.PutUint16(r[46:], 0)  // @46 Task
	keyword := uint64(0)
	if provider == pktmonGUID {
		keyword = 0x10 // Payload
	}
	le.PutUint64(r[48:], keyword) // @48 Keyword
	le.PutUint64(r[56:], 0)       // @56 ProcessorTime (KernelTime, UserTime)
	// @64 ActivityId: zero.
	// ETW_BUFFER_CONTEXT, 4 bytes.
	r[80] = 0                                   // @80 ProcessorNumber
	r[81] = 0                                   // @81 Alignment
	le.PutUint16(r[82:], 1)                     // @82 LoggerId
	le.PutUint16(r[84:], 0)                     // @84 ExtendedDataCount
	le.PutUint16(r[86:], uint16(len(userData))) // @86 UserDataLength
	// @88 ExtendedData, @96 UserData, @104 UserContext: pointers, zero in
	// a stream.
	s.b = append(append(s.b, r...), userData...)
	s.t = s.t.Add(time.Microsecond)
}

func guid(d1 uint32, d2, d3 uint16, d4 [8]byte) [16]byte {
	var g [16]byte
	binary.LittleEndian.PutUint32(g[0:], d1)
	binary.LittleEndian.PutUint16(g[4:], d2)
	binary.LittleEndian.PutUint16(g[6:], d3)
	copy(g[8:], d4[:])
	return g
}

// hnsEndpoints: web-0 (IPv4 and IPv6) and client-0, attached and shared
// (State 3), on the node's l2bridge network.
var hnsEndpoints = fmt.Sprintf(`[
  {
    "ID": "8b0e2f5a-7c1d-4e38-9a61-2f4c5d6e7a01",
    "Name": "0f3b2a1c9d8e_l2bridge",
    "HostComputeNetwork": "3f1a9c2e-5b7d-4e6f-8a90-b1c2d3e4f501",
    "HostComputeNamespace": "c1d2e3f4-0a1b-4c5d-8e9f-a0b1c2d3e401",
    "State": 3,
    "IpConfigurations": [
      {"IpAddress": %q, "PrefixLength": 24},
      {"IpAddress": %q, "PrefixLength": 64}
    ],
    "MacAddress": "00-15-5D-01-0A-0A",
    "SchemaVersion": {"Major": 2, "Minor": 16}
  },
  {
    "ID": "8b0e2f5a-7c1d-4e38-9a61-2f4c5d6e7a02",
    "Name": "5e6f7a8b9c0d_l2bridge",
    "HostComputeNetwork": "3f1a9c2e-5b7d-4e6f-8a90-b1c2d3e4f501",
    "HostComputeNamespace": "c1d2e3f4-0a1b-4c5d-8e9f-a0b1c2d3e402",
    "State": 3,
    "IpConfigurations": [
      {"IpAddress": %q, "PrefixLength": 24}
    ],
    "MacAddress": "00-15-5D-01-0A-0B",
    "SchemaVersion": {"Major": 2, "Minor": 16}
  }
]
`, webIP, webIPv6, clientIP)

// hnsEndpointStats: one GET /endpointstats/<id> answer per endpoint.
const hnsEndpointStats = `[
  {"BytesReceived": 120000, "BytesSent": 80000, "DroppedPacketsIncoming": 3, "DroppedPacketsOutgoing": 1,
   "EndpointID": "8b0e2f5a-7c1d-4e38-9a61-2f4c5d6e7a01", "InstanceID": "0f3b2a1c9d8e", "PacketsReceived": 900, "PacketsSent": 700},
  {"BytesReceived": 5000, "BytesSent": 4000, "DroppedPacketsIncoming": 0, "DroppedPacketsOutgoing": 2,
   "EndpointID": "8b0e2f5a-7c1d-4e38-9a61-2f4c5d6e7a02", "InstanceID": "5e6f7a8b9c0d", "PacketsReceived": 40, "PacketsSent": 30}
]
`

// vfpPortCounters: vfpctrl's counters of a port, Direction OUT first, then
// Direction IN (CRLF line ends, as Windows consoles print them).
const vfpPortCounters = "ITEM LIST\r\n" +
	"===========\r\n\r\n" +
	"  Direction - OUT\r\n" +
	"    Total packets : 700\r\n" +
	"    SYN packets : 12\r\n" +
	"    SYN-ACK packets : 9\r\n" +
	"    FIN packets : 8\r\n" +
	"    RST packets : 2\r\n" +
	"    TCP Connections Verified : 10\r\n" +
	"    TCP Connections Timed Out : 1\r\n" +
	"    TCP Connections Reset : 2\r\n" +
	"    TCP Connections Reset by SYN : 0\r\n" +
	"    TCP Connections Closed by FIN : 7\r\n" +
	"    TCP Half Open Timeouts : 1\r\n" +
	"    TCP Connections Expired to Time Wait : 6\r\n" +
	"    Dropped ACL packets : 4\r\n" +
	"\r\n" +
	"  Direction - IN\r\n" +
	"    Total packets : 900\r\n" +
	"    SYN packets : 15\r\n" +
	"    SYN-ACK packets : 11\r\n" +
	"    FIN packets : 9\r\n" +
	"    RST packets : 3\r\n" +
	"    TCP Connections Verified : 14\r\n" +
	"    TCP Connections Timed Out : 2\r\n" +
	"    TCP Connections Reset : 3\r\n" +
	"    TCP Connections Reset by SYN : 1\r\n" +
	"    TCP Connections Closed by FIN : 9\r\n" +
	"    TCP Half Open Timeouts : 2\r\n" +
	"    TCP Connections Expired to Time Wait : 8\r\n" +
	"    Dropped ACL packets : 5\r\n" +
	"Command get-port-counter succeeded!\r\n"

// vfpPorts: vfpctrl's port list, one block per port.
const vfpPorts = "ITEM LIST\r\n===========\r\n\r\n" +
	"  Port name : 6C1D5E3A-2B4F-4A8E-9D0C-1E2F3A4B5C01\r\n" +
	"  Port Friendly name : 0f3b2a1c9d8e_l2bridge\r\n" +
	"  Port type : Synthetic\r\n" +
	"  MAC address : 00-15-5D-01-0A-0A\r\n" +
	"\r\n" +
	"  Port name : 6C1D5E3A-2B4F-4A8E-9D0C-1E2F3A4B5C02\r\n" +
	"  Port Friendly name : 5e6f7a8b9c0d_l2bridge\r\n" +
	"  Port type : Synthetic\r\n" +
	"  MAC address : 00-15-5D-01-0A-0B\r\n" +
	"\r\n" +
	"  Port name : 6C1D5E3A-2B4F-4A8E-9D0C-1E2F3A4B5C03\r\n" +
	"  Port Friendly name : Container NIC 1a2b3c4d\r\n" +
	"  Port type : Internal\r\n" +
	"  MAC address : 00-15-5D-01-0A-01\r\n" +
	"Command list-vmswitch-port succeeded!\r\n"

// pktmonList: the node's components, grouped as `pktmon list` groups
// them; the pods' VM NICs carry their HNS endpoints' MAC addresses.
const pktmonList = `[
  {"Group": "Network Adapters", "Components": [
    {"Id": 2, "Name": "Mellanox ConnectX-4 Lx Virtual Ethernet Adapter", "Type": "Miniport",
     "Properties": [{"Name": "MAC Address", "Value": "00-0D-3A-11-22-33"}, {"Name": "ifIndex", "Value": 6}]}
  ]},
  {"Group": "vSwitch l2bridge", "Components": [
    {"Id": 5, "Name": "5e6f7a8b9c0d_l2bridge", "Type": "VM NIC",
     "Properties": [{"Name": "MAC Address", "Value": "00-15-5D-01-0A-0B"}]},
    {"Id": 6, "Name": "0f3b2a1c9d8e_l2bridge", "Type": "VM NIC",
     "Properties": [{"Name": "MAC Address", "Value": "00-15-5D-01-0A-0A"}]},
    {"Id": 7, "Name": "Virtual Filtering Platform VMSwitch Extension", "Type": "Filter", "Properties": []}
  ]},
  {"Group": "Protocols", "Components": [
    {"Id": 9, "Name": "TCPIP", "Type": "Protocol", "Properties": [{"Name": "Edge 1", "Value": "IPv4"}]}
  ]}
]
`
