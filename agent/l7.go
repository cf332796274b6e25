package agent

import (
	"github.com/foveanet/fovea/agent/dns"
	"github.com/foveanet/fovea/agent/http"
	"github.com/foveanet/fovea/bpf"
	"github.com/foveanet/fovea/model/record"
)

// l7Parsers hands each payload snippet of the datapath to the parser of
// its protocol: DNS for a packet on a DNS port (the datapath never tests
// those for HTTP), HTTP for any other.
type l7Parsers struct {
	dnsPorts [1 << 16 / 64]uint64
	dns      *dns.Parser
	http     *http.Parser // nil: HTTP visibility is off
	out      record.Record
}

func newL7Parsers(dnsPorts []uint16, d *dns.Parser, h *http.Parser) *l7Parsers {
	p := &l7Parsers{dns: d, http: h}
	for _, port := range dnsPorts {
		p.dnsPorts[port/64] |= 1 << (port % 64)
	}
	return p
}

func (p *l7Parsers) isDNS(port uint16) bool { return p.dnsPorts[port/64]&(1<<(port%64)) != 0 }

// Parse implements bpf.L7Parser.
func (p *l7Parsers) Parse(pkt *record.Record, s bpf.Snippet, emit func(*record.Record)) {
	switch {
	case p.isDNS(pkt.SrcPort) || p.isDNS(pkt.DstPort):
		if p.dns.Parse(pkt, s.Payload, &p.out) {
			emit(&p.out)
		}
	case p.http != nil:
		p.http.Parse(pkt, s, emit)
	}
}
