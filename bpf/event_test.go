package bpf

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/foveanet/fovea/model/record"
)

// testEvent is a raw event as the capture program writes it.
func testEvent(family, dir, flags uint8, src, dst netip.Addr) captureEvent {
	ce := captureEvent{
		Ktime: 123456789, Ifindex: 7, Len: 1514, Sport: 40000, Dport: 443, TcpFlags: 0x1ff,
		Proto: 6, Family: family, Dir: dir, Flags: flags, IcmpType: 3, IcmpCode: 4,
	}
	copy(ce.Saddr[:], src.AsSlice())
	copy(ce.Daddr[:], dst.AsSlice())
	return ce
}

// eventBytes returns a copy of ce's bytes, as the ring delivers them.
func eventBytes(ce captureEvent) []byte {
	return bytes.Clone(unsafe.Slice((*byte)(unsafe.Pointer(&ce)), EventSize))
}

func rawEvent(family, dir, flags uint8, src, dst netip.Addr) []byte {
	return eventBytes(testEvent(family, dir, flags, src, dst))
}

// snippetWords are a snippet event's sequence number and payload length
// as the program writes them after the event.
func snippetWords(seq, length uint32) []byte {
	b := binary.NativeEndian.AppendUint32(nil, seq)
	b = binary.NativeEndian.AppendUint32(b, seq+1) // ack
	b = binary.NativeEndian.AppendUint32(b, length)
	return binary.NativeEndian.AppendUint32(b, 0)
}

func TestDecode(t *testing.T) {
	v4s, v4d := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	v6s, v6d := netip.MustParseAddr("fd00::1"), netip.MustParseAddr("fd00::2")

	ev, err := Decode(rawEvent(4, 1, evL4|evReplyKnown|evReply, v4s, v4d))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	want := KernelEvent{
		BootNs: 123456789, Src: v4s, Dst: v4d, Ifindex: 7, Len: 1514, Proto: 6, HasL4: true,
		SrcPort: 40000, DstPort: 443, TCPFlags: 0x1ff, ICMPType: 3, ICMPCode: 4, Dir: Egress,
		ReplyKnown: true, Reply: true, Packets: 1,
	}
	if !reflect.DeepEqual(ev, want) {
		t.Fatalf("Decode:\n got %+v\nwant %+v", ev, want)
	}
	// Input that is not 8-byte aligned, unlike a ring sample, is copied
	// rather than read in place.
	shifted := append([]byte{0}, rawEvent(4, 1, evL4|evReplyKnown|evReply, v4s, v4d)...)[1:]
	if ev, err = Decode(shifted); err != nil || !reflect.DeepEqual(ev, want) {
		t.Fatalf("Decode misaligned:\n got %+v, %v\nwant %+v", ev, err, want)
	}
	ev, err = Decode(rawEvent(6, 0, 0, v6s, v6d))
	if err != nil {
		t.Fatalf("Decode v6: %v", err)
	}
	if ev.Src != v6s || ev.Dst != v6d || ev.Dir != Ingress || ev.HasL4 || ev.ReplyKnown {
		t.Fatalf("Decode v6: %+v", ev)
	}

	// The last word is a SYN-ACK's handshake latency, another packet
	// event's count.
	synAck := testEvent(4, 0, evL4, v4s, v4d)
	synAck.TcpFlags, synAck.Reason = record.TCPSyn|record.TCPAck, 1500
	if ev, err = Decode(eventBytes(synAck)); err != nil || ev.Handshake != 1500*time.Microsecond || ev.Packets != 1 {
		t.Fatalf("Decode SYN-ACK: %+v, %v", ev, err)
	}
	synAck.TcpFlags = record.TCPAck
	if ev, err = Decode(eventBytes(synAck)); err != nil || ev.Handshake != 0 || ev.Packets != 1500 {
		t.Fatalf("Decode ACK: %+v, %v", ev, err)
	}

	drop := testEvent(4, 0, evL4|evDrop, v4s, v4d)
	drop.Reason = 12
	if ev, err = Decode(eventBytes(drop)); err != nil || ev.Kind != KindDrop || ev.DropReason != 12 || !ev.HasL4 {
		t.Fatalf("Decode drop: %+v, %v", ev, err)
	}
	if ev, err = Decode(rawEvent(4, 0, evL4|evRetransmit|evPodNS, v4s, v4d)); err != nil || ev.Kind != KindRetransmit || !ev.PodNamespace {
		t.Fatalf("Decode retransmit: %+v, %v", ev, err)
	}
	snip := append(rawEvent(4, 0, evL4|evSnippet, v4s, v4d), snippetWords(7, 1000)...)
	snip = append(snip, 1, 2, 3)
	if ev, err = Decode(snip); err != nil || ev.Kind != KindSnippet || !reflect.DeepEqual(ev.Payload, []byte{1, 2, 3}) ||
		ev.Seq != 7 || ev.Ack != 8 || ev.PayloadLen != 1000 {
		t.Fatalf("Decode snippet: %+v, %v", ev, err)
	}

	// An aggregated report's last word counts the packets it stands for.
	agg := testEvent(4, 0, evL4|evReplyKnown, v4s, v4d)
	agg.TcpFlags, agg.Reason = record.TCPAck|record.TCPPsh, 5
	if ev, err = Decode(eventBytes(agg)); err != nil || ev.Kind != KindPacket || ev.Packets != 5 || ev.DropReason != 0 {
		t.Fatalf("Decode aggregated report: %+v, %v", ev, err)
	}
	var rec record.Record
	ev.fillRecord(&rec, 0, roleEndpoint, 1)
	if rec.Count != 5 || rec.Bytes != 1514 {
		t.Fatalf("aggregated report as record: count %d bytes %d, want 5 and 1514", rec.Count, rec.Bytes)
	}

	for _, bad := range []struct {
		name string
		raw  []byte
	}{
		{"nil", nil},
		{"short", rawEvent(4, 0, 0, v4s, v4d)[:63]},
		{"long", append(rawEvent(4, 0, 0, v4s, v4d), 0)},
		{"family", rawEvent(5, 0, 0, v4s, v4d)},
		{"direction", rawEvent(4, 2, 0, v4s, v4d)},
		{"unknown flag", rawEvent(4, 0, 1<<7, v4s, v4d)},
		{"packet in a pod namespace", rawEvent(4, 0, evL4|evPodNS, v4s, v4d)},
		{"two kinds", rawEvent(4, 0, evDrop|evRetransmit, v4s, v4d)},
		{"snippet without payload", rawEvent(4, 0, evSnippet, v4s, v4d)},
		{"snippet with its words only", append(rawEvent(4, 0, evSnippet, v4s, v4d), snippetWords(1, 1)...)},
		{"snippet longer than its length", append(append(rawEvent(4, 0, evSnippet, v4s, v4d), snippetWords(1, 1)...), 1, 2)},
		{"payload without snippet", append(rawEvent(4, 0, evDrop, v4s, v4d), 1)},
		{"payload too long", append(append(rawEvent(4, 0, evSnippet, v4s, v4d), snippetWords(1, 1<<20)...), make([]byte, SnippetMax+1)...)},
		{"reason on a retransmission", func() []byte {
			ce := testEvent(4, 0, evL4|evRetransmit, v4s, v4d)
			ce.Reason = 3
			return eventBytes(ce)
		}()},
		{"reply without known", rawEvent(4, 0, evReply, v4s, v4d)},
		{"tcp flags", func() []byte {
			ce := testEvent(4, 0, 0, v4s, v4d)
			ce.TcpFlags = 0x200
			return eventBytes(ce)
		}()},
	} {
		if _, err := Decode(bad.raw); err == nil {
			t.Errorf("%s: Decode accepted bad input", bad.name)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(rawEvent(4, 0, evL4|evReplyKnown, netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")))
	f.Add(rawEvent(6, 1, evL4, netip.MustParseAddr("fd00::1"), netip.MustParseAddr("fd00::2")))
	f.Add([]byte{})
	f.Add(make([]byte, EventSize))
	f.Add(append(append(rawEvent(4, 0, evL4|evSnippet, netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")), snippetWords(1, 1)...), 0xab))
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := Decode(raw)
		if err != nil {
			return
		}
		if (len(raw) != EventSize) != (ev.Kind == KindSnippet) || !ev.Src.IsValid() || !ev.Dst.IsValid() || ev.Src.Is4() != ev.Dst.Is4() {
			t.Fatalf("accepted %x as %+v", raw, ev)
		}
		if ev.Reply && !ev.ReplyKnown {
			t.Fatalf("reply of unknown state from %x", raw)
		}
		var rec record.Record
		ev.fillRecord(&rec, 0, roleEndpoint, 1)
		if rec.IsIPv6() != ev.Src.Is6() || rec.SrcAddr() != ev.Src || rec.DstAddr() != ev.Dst {
			t.Fatalf("record addresses %v -> %v from %+v", rec.SrcAddr(), rec.DstAddr(), ev)
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	raw := rawEvent(4, 0, evL4|evReplyKnown, netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"))
	var rec record.Record
	for b.Loop() {
		ev, err := Decode(raw)
		if err != nil {
			b.Fatal(err)
		}
		ev.fillRecord(&rec, 0, roleEndpoint, 1)
	}
}
