package pcapfilter

import (
	"encoding/binary"
	"net/netip"
	"strings"

	"golang.org/x/net/bpf"
)

// atom is one test: load a value (load), mask it when mask is non-zero,
// and compare it with val.
type atom struct {
	load []bpf.Instruction
	mask uint32
	test bpf.JumpTest
	val  uint32
}

// Offsets in an Ethernet frame without VLAN tag.
const (
	offEtherType = 12
	offIP        = 14
	offIPProto   = offIP + 9
	offIPFrag    = offIP + 6
	offIPSrc     = offIP + 12
	offIPDst     = offIP + 16
	offIP6Next   = offIP + 6
	offIP6Src    = offIP + 8
	offIP6Dst    = offIP + 24
	offIP6L4     = offIP + 40
)

var ipProtos = map[string]uint32{"tcp": 6, "udp": 17, "sctp": 132, "icmp": 1, "icmp6": 58}

func ldh(off uint32) []bpf.Instruction { return []bpf.Instruction{bpf.LoadAbsolute{Off: off, Size: 2}} }
func ldb(off uint32) []bpf.Instruction { return []bpf.Instruction{bpf.LoadAbsolute{Off: off, Size: 1}} }
func ldw(off uint32) []bpf.Instruction { return []bpf.Instruction{bpf.LoadAbsolute{Off: off, Size: 4}} }

func eq(load []bpf.Instruction, v uint32) atom { return atom{load: load, test: bpf.JumpEqual, val: v} }

func allOf(es ...expr) expr {
	out := es[0]
	for _, e := range es[1:] {
		out = andExpr{out, e}
	}
	return out
}

func anyOf(es ...expr) expr {
	out := es[0]
	for _, e := range es[1:] {
		out = orExpr{out, e}
	}
	return out
}

var (
	isIP  = eq(ldh(offEtherType), 0x0800)
	isIP6 = eq(ldh(offEtherType), 0x86dd)
	isARP = eq(ldh(offEtherType), 0x0806)
	// notFragment: an IPv4 fragment after the first has no L4 header.
	notFragment = atom{load: ldh(offIPFrag), mask: 0x1fff, test: bpf.JumpEqual, val: 0}
)

// expand rewrites primitives into and/or/not trees of atoms.
func expand(e expr) expr {
	switch e := e.(type) {
	case andExpr:
		return andExpr{expand(e.a), expand(e.b)}
	case orExpr:
		return orExpr{expand(e.a), expand(e.b)}
	case notExpr:
		return notExpr{expand(e.a)}
	case prim:
		return expandPrim(e)
	}
	return e
}

// families says which IP versions a protocol qualifier allows.
func families(proto string) (v4, v6 bool) {
	switch proto {
	case "ip", "icmp":
		return true, false
	case "ip6", "icmp6":
		return false, true
	}
	return true, true
}

func expandPrim(p prim) expr {
	switch p.kind {
	case "host", "net":
		a := addrExpr(p)
		if n, ok := ipProtos[p.proto]; ok {
			return allOf(protoExpr(p.proto, n), a)
		}
		return a
	case "port", "portrange":
		return portExpr(p)
	}
	switch p.proto {
	case "ip":
		return isIP
	case "ip6":
		return isIP6
	case "arp":
		return isARP
	}
	return protoExpr(p.proto, ipProtos[p.proto])
}

// protoExpr matches IP packets carrying protocol n, over the families the
// protocol name allows.
func protoExpr(name string, n uint32) expr {
	v4, v6 := families(name)
	var alts []expr
	if v4 {
		alts = append(alts, allOf(isIP, eq(ldb(offIPProto), n)))
	}
	if v6 {
		alts = append(alts, allOf(isIP6, eq(ldb(offIP6Next), n)))
	}
	return anyOf(alts...)
}

// addrExpr matches a host or net primitive by its source, destination or
// either address.
func addrExpr(p prim) expr {
	var prefix netip.Prefix
	if p.kind == "host" {
		a := netip.MustParseAddr(p.value).Unmap()
		prefix = netip.PrefixFrom(a, a.BitLen())
	} else {
		prefix = netip.MustParsePrefix(p.value).Masked()
	}
	src, dst, family := uint32(offIPSrc), uint32(offIPDst), isIP
	if !prefix.Addr().Is4() {
		src, dst, family = offIP6Src, offIP6Dst, isIP6
	}
	var sides []expr
	if p.dir != "dst" {
		sides = append(sides, prefixAt(src, prefix))
	}
	if p.dir != "src" {
		sides = append(sides, prefixAt(dst, prefix))
	}
	return allOf(family, anyOf(sides...))
}

// prefixAt compares the address at off with prefix, one 32-bit word at a
// time; words the prefix does not cover are not loaded.
func prefixAt(off uint32, prefix netip.Prefix) expr {
	raw := prefix.Addr().AsSlice()
	bits := prefix.Bits()
	var words []expr
	for i := 0; i < len(raw)/4 && bits > 0; i++ {
		w := atom{load: ldw(off + uint32(4*i)), test: bpf.JumpEqual, val: binary.BigEndian.Uint32(raw[4*i:])}
		if bits < 32 {
			w.mask = ^uint32(0) << (32 - bits)
		}
		words = append(words, w)
		bits -= 32
	}
	if len(words) == 0 { // a /0 matches every address of the family
		return atom{load: ldh(offEtherType), test: bpf.JumpGreaterOrEqual, val: 0}
	}
	return allOf(words...)
}

// portExpr matches TCP, UDP or SCTP (or the protocol named) packets by
// their source, destination or either port, over IPv4 (first fragments)
// and IPv6 (no extension headers).
func portExpr(p prim) expr {
	protos := []string{"tcp", "udp", "sctp"}
	if _, ok := ipProtos[p.proto]; ok {
		protos = []string{p.proto}
	}
	lo, hi := uint32(0), uint32(0)
	if p.kind == "port" {
		lo, _ = parsePort(p.value)
		hi = lo
	} else {
		l, h, _ := strings.Cut(p.value, "-")
		lo, _ = parsePort(l)
		hi, _ = parsePort(h)
	}
	inRange := func(load []bpf.Instruction) expr {
		if lo == hi {
			return eq(load, lo)
		}
		return allOf(atom{load: load, test: bpf.JumpGreaterOrEqual, val: lo}, atom{load: load, test: bpf.JumpLessOrEqual, val: hi})
	}
	ports := func(srcLoad, dstLoad []bpf.Instruction) expr {
		var sides []expr
		if p.dir != "dst" {
			sides = append(sides, inRange(srcLoad))
		}
		if p.dir != "src" {
			sides = append(sides, inRange(dstLoad))
		}
		return anyOf(sides...)
	}
	anyProto := func(off uint32) expr {
		var alts []expr
		for _, name := range protos {
			alts = append(alts, eq(ldb(off), ipProtos[name]))
		}
		return anyOf(alts...)
	}
	v4, v6 := families(p.proto)
	var alts []expr
	if v4 {
		// The IPv4 header's length is in its first byte: X = 4*(IHL).
		l4 := func(off uint32) []bpf.Instruction {
			return []bpf.Instruction{bpf.LoadMemShift{Off: offIP}, bpf.LoadIndirect{Off: offIP + off, Size: 2}}
		}
		alts = append(alts, allOf(isIP, anyProto(offIPProto), notFragment, ports(l4(0), l4(2))))
	}
	if v6 {
		alts = append(alts, allOf(isIP6, anyProto(offIP6Next), ports(ldh(offIP6L4), ldh(offIP6L4+2))))
	}
	return anyOf(alts...)
}
