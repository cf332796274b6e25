package record

import (
	"net/netip"
	"reflect"
	"testing"
	"time"
	"unsafe"
)

// recordSize is what every ring slot holds, so a change is a change of the
// agent's memory: 104 bytes until the network policy reference (issue #22),
// which a drop needs beside its kernel reason's name, took 4 and alignment
// the other 4.
const recordSize = 112

func TestRecordIsWordSizedAndPointerFree(t *testing.T) {
	if s := unsafe.Sizeof(Record{}); s%8 != 0 || s != recordSize {
		t.Fatalf("Record is %d bytes, want %d (a multiple of 8; update recordSize with the reason)", s, recordSize)
	}
	typ := reflect.TypeFor[Record]()
	for i := range typ.NumField() {
		switch typ.Field(i).Type.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.String, reflect.Map, reflect.Interface, reflect.Chan, reflect.Func:
			t.Fatalf("field %s holds a pointer", typ.Field(i).Name)
		}
	}
}

func TestSetAddrs(t *testing.T) {
	for _, tc := range []struct{ src, dst string }{
		{"10.0.0.1", "192.168.1.2"},
		{"fd00::1", "fd00::2"},
		{"::ffff:10.0.0.1", "::ffff:10.0.0.2"},
	} {
		var r Record
		src, dst := netip.MustParseAddr(tc.src), netip.MustParseAddr(tc.dst)
		r.SetAddrs(src, dst)
		if got := r.SrcAddr(); got != src.Unmap() {
			t.Errorf("SrcAddr() = %v, want %v", got, src.Unmap())
		}
		if got := r.DstAddr(); got != dst.Unmap() {
			t.Errorf("DstAddr() = %v, want %v", got, dst.Unmap())
		}
		if r.IsIPv6() != src.Unmap().Is6() {
			t.Errorf("%s: IsIPv6() = %v", tc.src, r.IsIPv6())
		}
	}

	// A packet may carry one IPv4-mapped and one plain IPv6 address: both
	// stay IPv6, as they were.
	var r Record
	src, dst := netip.MustParseAddr("::ffff:10.0.0.1"), netip.MustParseAddr("fd00::2")
	r.SetAddrs(src, dst)
	if !r.IsIPv6() || r.SrcAddr() != src || r.DstAddr() != dst {
		t.Errorf("mixed pair stored as %v -> %v (IPv6 %v)", r.SrcAddr(), r.DstAddr(), r.IsIPv6())
	}
}

func TestReply(t *testing.T) {
	var r Record
	if _, known := r.Reply(); known {
		t.Fatal("zero record claims a known reply state")
	}
	r.SetReply(true)
	if reply, known := r.Reply(); !reply || !known {
		t.Fatalf("Reply() = %v, %v after SetReply(true)", reply, known)
	}
	r.SetReply(false)
	if reply, known := r.Reply(); reply || !known {
		t.Fatalf("Reply() = %v, %v after SetReply(false)", reply, known)
	}
}

func TestDetailIsTheKinds(t *testing.T) {
	r := Record{Kind: KindDrop, Detail: 5}
	if r.KernelDropReason() != 5 || r.Handshake() != 0 {
		t.Errorf("drop: reason %d, handshake %v", r.KernelDropReason(), r.Handshake())
	}
	r.Kind = KindTrace
	if r.KernelDropReason() != 0 || r.Handshake() != 5*time.Microsecond {
		t.Errorf("trace: reason %d, handshake %v", r.KernelDropReason(), r.Handshake())
	}
}
