package pcapng_test

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/foveanet/fovea/api/capture/capturepb"
	"github.com/foveanet/fovea/api/pcapng"
)

func iface(id uint32, pod string) *capturepb.CaptureEvent {
	return &capturepb.CaptureEvent{Node: "node1", Event: &capturepb.CaptureEvent_Interface{Interface: &capturepb.Interface{
		Id: id, Name: "prod/" + pod + "@node1", Description: "pod prod/" + pod + " on node node1 (veth" + pod + ")",
		Namespace: "prod", Pod: pod, Device: "veth" + pod, LinkType: 1, SnapLength: 262144,
	}}}
}

func packets(ps ...*capturepb.Packet) *capturepb.CaptureEvent {
	return &capturepb.CaptureEvent{Node: "node1", Event: &capturepb.CaptureEvent_Packets{Packets: &capturepb.Packets{Packets: ps}}}
}

// TestRoundTrip writes a node's interfaces and packets and reads back the
// same events, the way an agent serves a download of its file.
func TestRoundTrip(t *testing.T) {
	in := []*capturepb.CaptureEvent{
		iface(0, "web"),
		packets(&capturepb.Packet{InterfaceId: 0, TimeUnixNano: 1_700_000_000_123_456_789, Length: 60, Data: bytes.Repeat([]byte{1}, 60)}),
		iface(1, "db"),
		packets(
			&capturepb.Packet{InterfaceId: 1, TimeUnixNano: 1_700_000_001_000_000_001, Length: 1500, Data: bytes.Repeat([]byte{2}, 96)},
			&capturepb.Packet{InterfaceId: 0, TimeUnixNano: 1_700_000_002_000_000_000, Length: 61, Data: bytes.Repeat([]byte{3}, 61)},
		),
		iface(2, "idle"),
	}
	var buf bytes.Buffer
	w := pcapng.NewWriter(&buf)
	for _, ev := range in {
		if err := w.Write(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	var out []*capturepb.CaptureEvent
	if err := pcapng.Read(&buf, func(ev *capturepb.CaptureEvent) error {
		out = append(out, ev)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Read batches packets between interfaces: the two batches above
	// come back as written, the idle interface last.
	if len(out) != len(in) {
		t.Fatalf("read %d events, want %d: %v", len(out), len(in), out)
	}
	for i := range in {
		if !proto.Equal(in[i], out[i]) {
			t.Errorf("event %d:\n got %v\nwant %v", i, out[i], in[i])
		}
	}
}

func TestUnknownInterface(t *testing.T) {
	w := pcapng.NewWriter(new(bytes.Buffer))
	if err := w.Write(iface(0, "web")); err != nil {
		t.Fatal(err)
	}
	err := w.WritePacket("node2", &capturepb.Packet{InterfaceId: 0, Data: []byte{1}, Length: 1})
	if err == nil {
		t.Fatal("a packet of another node's interface was written")
	}
}
