package dns

import (
	"errors"
	"fmt"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/l7"
	"github.com/foveanet/fovea/model/record"
)

// Parser makes L7 records of DNS messages. It implements the eBPF source's
// L7 parser: Parse is called from one goroutine (it is not safe for
// concurrent use); Collector may be scraped concurrently.
type Parser struct {
	store    *l7.Store
	names    *Names
	queries  *queries
	seen     *sightings
	unpacker unpacker
	counters parserCounters
}

// Option customises a Parser.
type Option func(*options)

type options struct {
	names          *Names
	pendingQueries int
}

// WithNames feeds the answers of responses into names.
func WithNames(names *Names) Option { return func(o *options) { o.names = names } }

// WithPendingQueries bounds how many queries are remembered for the latency
// of their responses, and how many messages for recognising a message seen
// again at another observation point (default 4096 each).
func WithPendingQueries(n int) Option { return func(o *options) { o.pendingQueries = n } }

// NewParser returns a parser that stores L7 details in store.
func NewParser(store *l7.Store, opts ...Option) (*Parser, error) {
	o := options{pendingQueries: 4096}
	for _, opt := range opts {
		opt(&o)
	}
	if store == nil {
		return nil, errors.New("create DNS parser: nil L7 store")
	}
	if o.pendingQueries < 1 {
		return nil, fmt.Errorf("create DNS parser: pending queries %d must be positive", o.pendingQueries)
	}
	q, err := newQueries(o.pendingQueries)
	if err != nil {
		return nil, fmt.Errorf("create DNS parser: %w", err)
	}
	seen, err := newSightings(o.pendingQueries)
	if err != nil {
		return nil, fmt.Errorf("create DNS parser: %w", err)
	}
	return &Parser{store: store, names: o.names, queries: q, seen: seen}, nil
}

// Parse decodes the DNS message at the start of payload, the first bytes of
// pkt's UDP or TCP payload (TCP with its length prefix), into out: an L7
// record of pkt's addresses, ports, interface and observation point. It
// reports false, counting a parse error, for anything but a DNS message
// with a question; an empty payload (a bare TCP ACK) is not an error. A
// message already reported from another observation point moments ago
// yields no record either (counted as a duplicate).
func (p *Parser) Parse(pkt *record.Record, payload []byte, out *record.Record) bool {
	m, cut, err := p.unpacker.unpack(pkt.Proto, payload)
	if err != nil {
		if !errors.Is(err, errEmpty) || pkt.Proto != record.ProtoTCP {
			p.counters.parseErrors.Add(1)
		}
		return false
	}
	if p.seen.seen(pkt, m.Id, m.Response) {
		p.counters.duplicates.Add(1)
		return false
	}
	if cut {
		p.counters.cut.Add(1)
	}
	d := details(m)
	l := &flowpb.Layer7{Type: flowpb.L7FlowType_REQUEST, Record: &flowpb.Layer7_Dns{Dns: d}}
	if m.Response {
		l.Type = flowpb.L7FlowType_RESPONSE
		l.LatencyNs = p.queries.latency(pkt, m.Id)
		if p.names != nil {
			p.names.Learn(m, pkt.Time)
		}
		p.counters.responses.Add(1)
	} else {
		p.queries.request(pkt, m.Id)
		p.counters.queries.Add(1)
	}
	p.store.Record(pkt, l, out)
	return true
}
