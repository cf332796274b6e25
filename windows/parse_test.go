package windows

import (
	"encoding/binary"
	"encoding/json"
	"net"
	"net/netip"
	"strings"
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
)

func TestGUID(t *testing.T) {
	g := MustParseGUID("{4d4f80d9-c8bd-4d73-bb5b-19c90402c5ac}")
	if g.String() != "{4d4f80d9-c8bd-4d73-bb5b-19c90402c5ac}" {
		t.Errorf("String() = %s", g)
	}
	var mem [16]byte
	g.encode(mem[:])
	// Data1..3 little-endian in memory, Data4 as written.
	want := []byte{0xd9, 0x80, 0x4f, 0x4d, 0xbd, 0xc8, 0x73, 0x4d, 0xbb, 0x5b, 0x19, 0xc9, 0x04, 0x02, 0xc5, 0xac}
	if string(mem[:]) != string(want) || decodeGUID(mem[:]) != g {
		t.Errorf("memory layout %x, want %x", mem, want)
	}
	for _, bad := range []string{"", "{4d4f80d9-c8bd-4d73-bb5b-19c90402c5a}", "{4d4f80d9+c8bd-4d73-bb5b-19c90402c5ac}", "{zd4f80d9-c8bd-4d73-bb5b-19c90402c5ac}"} {
		if _, err := ParseGUID(bad); err == nil {
			t.Errorf("ParseGUID(%q) succeeded", bad)
		}
	}
}

func TestParseEventRecordRejects(t *testing.T) {
	if _, err := ParseEventRecord(make([]byte, EventRecordSize-1), nil); err == nil {
		t.Error("short record accepted")
	}
	rec := make([]byte, EventRecordSize)
	binary.LittleEndian.PutUint16(rec[offUserDataLength:], 5)
	if _, err := ParseEventRecord(rec, make([]byte, 4)); err == nil {
		t.Error("UserDataLength 5 with 4 bytes accepted")
	}
	stream := readFixture(t, "pktmon.etw")
	for _, cut := range []int{EventRecordSize - 1, EventRecordSize + 1} {
		if err := ReadStream(stream[:cut], func(Event) error { return nil }); err == nil {
			t.Errorf("stream cut at %d accepted", cut)
		}
	}
}

func TestParsePktMonRejects(t *testing.T) {
	ok := make([]byte, pktmonFixedSize+4)
	binary.LittleEndian.PutUint16(ok[originalSizeOff:], 4)
	binary.LittleEndian.PutUint16(ok[loggedSizeOff:], 4)
	if _, err := ParsePktMon(EventPacket, ok); err != nil {
		t.Fatalf("valid payload: %v", err)
	}
	for name, mutate := range map[string]func([]byte) []byte{
		"short":                 func(b []byte) []byte { return b[:pktmonFixedSize-1] },
		"logged size too large": func(b []byte) []byte { binary.LittleEndian.PutUint16(b[loggedSizeOff:], 5); return b },
		"original below logged": func(b []byte) []byte { binary.LittleEndian.PutUint16(b[originalSizeOff:], 3); return b },
	} {
		if _, err := ParsePktMon(EventPacket, mutate(append([]byte(nil), ok...))); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := ParsePktMon(20, ok); err == nil {
		t.Error("event 20 accepted")
	}
}

func TestDropReasons(t *testing.T) {
	for code, want := range map[uint32]string{
		0: "Drop_Unknown", 12: "Drop_FailedSecurityPolicy", 38: "Drop_LowPower", 39: "reason 39",
		224: "reason 224", 228: "Drop_SteeringMismatch", 404: "Drop_VMBusError", 615: "Drop_FL_FlsNpiClientDrop",
		719: "Drop_NicSuspended", 907: "Drop_NL_NoRoute", 1002: "Drop_NL_SwUsoFailure", 1232: "Drop_INET_AcceptRedirection",
		1327: "Drop_SlbMux_UnableToHandleRedirect", 1418: "Drop_Ipsec_Unsuccessful", 1507: "Drop_NetCx_BufferBounceFailureAndPacketIgnore",
	} {
		if got := DropReasonName(code); got != want {
			t.Errorf("DropReasonName(%d) = %q, want %q", code, got, want)
		}
	}
	// Every mapped code has a name: the table and the mapping agree.
	for code, r := range hubbleDropReasons {
		if strings.HasPrefix(DropReasonName(code), "reason ") || r == flowpb.DropReason_DROP_REASON_UNKNOWN {
			t.Errorf("code %d maps to %s but is named %q", code, r, DropReasonName(code))
		}
	}
}

func TestParseEndpoints(t *testing.T) {
	e := fixtureEndpoints(t)
	web := e.Lookup(netip.MustParseAddr("fd00:10:244:1::a"))
	if web == nil || web.ID != "8b0e2f5a-7c1d-4e38-9a61-2f4c5d6e7a01" || web.MAC.String() != "00:15:5d:01:0a:0a" {
		t.Fatalf("web-0's endpoint: %+v", web)
	}
	if e.Lookup(netip.MustParseAddr("10.244.1.10")) != web || e.Lookup(netip.MustParseAddr("10.244.2.20")) != nil || e.Len() != 3 {
		t.Errorf("lookups wrong: %d addresses", e.Len())
	}
	for name, b := range map[string]string{
		"bad mac": `{"ID":"x","MacAddress":"zz"}`,
		"bad ip":  `{"ID":"x","IpConfigurations":[{"IpAddress":"10.0.0"}]}`,
		"no json": `{`,
	} {
		if _, err := ParseEndpoint([]byte(b)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	var stats []json.RawMessage
	if err := json.Unmarshal(readFixture(t, "hns_endpointstats.json"), &stats); err != nil {
		t.Fatal(err)
	}
	s, err := ParseEndpointStats(stats[0])
	if err != nil || s.PacketsReceived != 900 || s.DroppedPacketsOutgoing != 1 {
		t.Errorf("stats %+v, %v", s, err)
	}
}

func TestParseVFPPortCounters(t *testing.T) {
	pc, err := ParseVFPPortCounters(string(readFixture(t, "vfp_port_counters.txt")))
	if err != nil {
		t.Fatal(err)
	}
	want := VFPPortCounters{
		Out: VFPDirCounters{SYN: 12, SYNACK: 9, FIN: 8, RST: 2, Verified: 10, TimedOut: 1, Reset: 2, ClosedFIN: 7, HalfOpenTimeouts: 1, TimeWaitExpired: 6, ACLDrops: 4},
		In:  VFPDirCounters{SYN: 15, SYNACK: 11, FIN: 9, RST: 3, Verified: 14, TimedOut: 2, Reset: 3, ResetSYN: 1, ClosedFIN: 9, HalfOpenTimeouts: 2, TimeWaitExpired: 8, ACLDrops: 5},
	}
	if pc != want {
		t.Errorf("got %+v\nwant %+v", pc, want)
	}
	if _, err := ParseVFPPortCounters("  Direction - IN\r\n    SYN packets : many\r\n"); err == nil {
		t.Error("non-numeric counter accepted")
	}
	if _, err := ParseVFPPortCounters("Error: port not found\r\n"); err == nil {
		t.Error("output without a direction accepted")
	}
}

func TestSeenPacketsWindow(t *testing.T) {
	s := newSeenPackets(2)
	a, b, c := packetKey{1, 1}, packetKey{2, 1}, packetKey{3, 1}
	s.add(a, seenTrace)
	if !s.has(a, seenTrace) || s.has(a, seenDrop) {
		t.Error("a: reported as a trace only")
	}
	s.add(a, seenDrop)
	if !s.has(a, seenTrace) || !s.has(a, seenDrop) {
		t.Error("a: reported as a trace and a drop")
	}
	s.add(b, seenTrace)
	s.add(c, seenTrace) // evicts a
	if s.has(a, seenTrace) || !s.has(b, seenTrace) || !s.has(c, seenTrace) {
		t.Error("a, not b or c, is out of the window")
	}
	if len(s.kinds) != 2 {
		t.Errorf("window holds %d keys, want 2", len(s.kinds))
	}
}

func TestParseHNSAnswers(t *testing.T) {
	out, err := parseHNSResponse([]byte(`{"Success":true,"Output":{"PacketsSent":7}}`))
	if err != nil {
		t.Fatal(err)
	}
	if s, err := ParseEndpointStats(out); err != nil || s.PacketsSent != 7 {
		t.Errorf("stats %+v, %v", s, err)
	}
	if _, err := parseHNSResponse([]byte(`{"Success":false,"Error":"Element not found."}`)); err == nil || !strings.Contains(err.Error(), "Element not found.") {
		t.Errorf("failure: %v", err)
	}
	ids, err := parseEndpointIDs([]byte(`["8B0E2F5A-7C1D-4E38-9A61-2F4C5D6E7A01"]`))
	if err != nil || len(ids) != 1 || ids[0].String() != "{8b0e2f5a-7c1d-4e38-9a61-2f4c5d6e7a01}" {
		t.Errorf("ids %v, %v", ids, err)
	}
	if _, err := parseEndpointIDs([]byte(`["not-a-guid"]`)); err == nil {
		t.Error("bad id accepted")
	}
}

func TestParseVFPPortList(t *testing.T) {
	got := ParseVFPPortList(string(readFixture(t, "vfp_ports.txt")))
	want := map[string]string{
		"00:15:5d:01:0a:0a": "6C1D5E3A-2B4F-4A8E-9D0C-1E2F3A4B5C01",
		"00:15:5d:01:0a:0b": "6C1D5E3A-2B4F-4A8E-9D0C-1E2F3A4B5C02",
		"00:15:5d:01:0a:01": "6C1D5E3A-2B4F-4A8E-9D0C-1E2F3A4B5C03",
	}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for mac, port := range want {
		if got[mac] != port {
			t.Errorf("%s: port %q, want %q", mac, got[mac], port)
		}
	}
}

func TestParseComponentList(t *testing.T) {
	comps, err := ParseComponentList(readFixture(t, "pktmon_list.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(comps) != 5 {
		t.Fatalf("%d components, want 5: %+v", len(comps), comps)
	}
	byID := map[uint16]Component{}
	for _, c := range comps {
		byID[c.ID] = c
	}
	if c := byID[6]; c.Name != "0f3b2a1c9d8e_l2bridge" || c.Type != "VM NIC" || c.MAC.String() != "00:15:5d:01:0a:0a" {
		t.Errorf("component 6: %+v", c)
	}
	if c := byID[9]; c.MAC != nil {
		t.Errorf("TCPIP has MAC %v", c.MAC)
	}
	if _, err := ParseComponentList([]byte(`{"Group": "not a list"}`)); err == nil {
		t.Error("an object accepted as the list")
	}
}

// TestComponentJoin: a packet from another node to web-0, first logged at
// web-0's own VM NIC (its HNS endpoint's MAC), is arriving at the pod:
// TO_ENDPOINT, though it comes in (PktMon's direction tag); first logged
// at the NIC, it comes from the network.
func TestComponentJoin(t *testing.T) {
	var first Event
	n := 0
	if err := ReadStream(readFixture(t, "pktmon.etw"), func(ev Event) error {
		if n++; n == 6 { // scenario 3's appearance at the NIC
			first = ev
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for comp, want := range map[uint16]flowpb.TraceObservationPoint{
		compNIC: flowpb.TraceObservationPoint_FROM_NETWORK, compWebPort: flowpb.TraceObservationPoint_TO_ENDPOINT,
	} {
		ev := first
		ev.UserData = append([]byte(nil), first.UserData...)
		binary.LittleEndian.PutUint16(ev.UserData[componentIDOff:], comp)
		tables := intern.NewTables()
		d := NewDecoder(tables, fixtureEndpoints(t), fixtureComponents(t))
		var rec record.Record
		if !d.Decode(ev, &rec) {
			t.Fatalf("component %d: no record", comp)
		}
		if got := flowpb.TraceObservationPoint(rec.ObsPoint); got != want || rec.DstAddr().String() != "10.244.1.10" {
			t.Errorf("component %d: %s to %s, want %s to web-0", comp, got, rec.DstAddr(), want)
		}
		if iface := tables.Interfaces.Get(rec.Iface); iface.GetIndex() != uint32(comp) {
			t.Errorf("component %d: interface %v", comp, iface)
		}
	}
}

// Component ids of the fixture's node (internal/genfixtures).
const (
	compNIC     = 2
	compWebPort = 6
)

// FuzzParseVFP feeds arbitrary text to the vfpctrl output parsers, whose
// input is another program's console output: no panic, and a port list
// maps only MAC addresses.
func FuzzParseVFP(f *testing.F) {
	f.Add(string(readFixture(f, "vfp_port_counters.txt")))
	f.Add(string(readFixture(f, "vfp_ports.txt")))
	f.Fuzz(func(t *testing.T, out string) {
		_, _ = ParseVFPPortCounters(out)
		for mac := range ParseVFPPortList(out) {
			if _, err := net.ParseMAC(mac); err != nil {
				t.Fatalf("port list key %q is no MAC", mac)
			}
		}
	})
}
