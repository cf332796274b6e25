package replay

import (
	"fmt"
	"net"
	"net/netip"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	mdns "github.com/miekg/dns"

	"github.com/foveanet/fovea/bpf"
	"github.com/foveanet/fovea/model/record"
)

// The DNS responses come from a cluster DNS service's address of the
// client's family, outside the pods, as kube-dns's is.
var (
	dnsServer4 = netip.MustParseAddr("10.3.0.10")
	dnsServer6 = netip.MustParseAddr("fd03::10")
)

// dnsTTL is the answers' TTL: short, as a headless service's records are,
// below the agent's minimum, which then decides how long names stay.
const dnsTTL = 5

// dnsNames is how many names each second's responses cycle through (by
// the millisecond).
const dnsNames = 64

// maxDNSClients is how many pods DNS responses can go to: the client's
// index rides in the destination port, from 32768.
const maxDNSClients = 65536 - 32768

// isDNS reports whether fill made r a DNS response.
func isDNS(r *record.Record) bool {
	return r.Proto == record.ProtoUDP && r.SrcPort == 53
}

// makeDNS turns r, record k, into a DNS response from the cluster DNS to
// a pod, each in turn, whose payload parseDNS makes. The client's index
// rides in the destination port.
func (s *Source) makeDNS(r *record.Record, k uint64) {
	client := k / uint64(s.cfg.DNSEvery) % uint64(len(s.cfg.Pods))
	r.Kind, r.Verdict, r.DropReason = record.KindTrace, uint8(flowpb.Verdict_FORWARDED), 0
	r.Proto, r.TCPFlags = record.ProtoUDP, 0
	r.SrcPort, r.DstPort = 53, uint16(32768+client)
	r.Bytes = 120
	r.Flags = 0
	server := dnsServer4
	if s.cfg.Pods[client].Is6() {
		server = dnsServer6
	}
	setAddr(&r.Src, server, &r.Flags)
	setAddr(&r.Dst, s.cfg.Pods[client], &r.Flags)
}

// parseDNS hands r's payload to the L7 parser, as the eBPF source hands a
// DNS packet's snippet: a response naming one of this second's names (they
// rotate every second of the records' time) with the address of the pod
// that r's client sends its flows to, so those flows carry the name.
func (s *Source) parseDNS(r *record.Record, emit func(*record.Record)) {
	pods := uint64(len(s.cfg.Pods))
	client := uint64(r.DstPort - 32768)
	answer := s.cfg.Pods[(client*7+1)%pods]
	name := fmt.Sprintf("n%d.t%d.soak.test.", uint64(r.Time/1e6)%dnsNames, r.Time/1e9)
	m := new(mdns.Msg)
	m.SetQuestion(name, mdns.TypeA)
	m.Response = true
	hdr := mdns.RR_Header{Name: name, Class: mdns.ClassINET, Ttl: dnsTTL}
	if answer.Is4() {
		hdr.Rrtype = mdns.TypeA
		m.Answer = []mdns.RR{&mdns.A{Hdr: hdr, A: net.IP(answer.AsSlice())}}
	} else {
		m.Question[0].Qtype = mdns.TypeAAAA
		hdr.Rrtype = mdns.TypeAAAA
		m.Answer = []mdns.RR{&mdns.AAAA{Hdr: hdr, AAAA: net.IP(answer.AsSlice())}}
	}
	payload, err := m.PackBuffer(s.dnsBuf[:])
	if err != nil {
		// The names and addresses above always pack.
		panic(fmt.Sprintf("pack DNS response: %v", err))
	}
	s.cfg.L7.Parse(r, bpf.Snippet{Payload: payload, Len: uint32(len(payload))}, emit)
}
