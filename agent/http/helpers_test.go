package http

import (
	"net/netip"
	"strconv"
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/bpf"
	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/l7"
	"github.com/foveanet/fovea/model/record"
)

var (
	clientAddr = netip.MustParseAddr("10.0.1.5")
	serverAddr = netip.MustParseAddr("10.0.2.8")
)

// side is where a test connection is seen: the client pod's interface, the
// server pod's, or the node's uplink.
type side struct {
	iface          intern.Ref
	request, reply flowpb.TraceObservationPoint
}

var (
	clientSide = side{1, flowpb.TraceObservationPoint_FROM_ENDPOINT, flowpb.TraceObservationPoint_TO_ENDPOINT}
	serverSide = side{2, flowpb.TraceObservationPoint_TO_ENDPOINT, flowpb.TraceObservationPoint_FROM_ENDPOINT}
	uplink     = side{3, flowpb.TraceObservationPoint_TO_NETWORK, flowpb.TraceObservationPoint_FROM_NETWORK}
)

// tconn is a TCP connection driven through a parser: each write is one
// segment, its sequence number following the previous one's bytes.
type tconn struct {
	t          *testing.T
	p          *Parser
	store      *l7.Store
	side       side
	cport      uint16
	cseq, sseq uint32
	now        int64
	flows      []flowOf
}

// flowOf is an emitted record with its details.
type flowOf struct {
	rec record.Record
	l7  *flowpb.Layer7
}

func newParser(t testing.TB, cfg Config) (*Parser, *l7.Store) {
	t.Helper()
	store, err := l7.NewStore(1 << 12)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewParser(store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p, store
}

func (c *tconn) packet(fromClient bool) *record.Record {
	r := &record.Record{Kind: record.KindTrace, Proto: record.ProtoTCP, Time: c.now, Iface: c.side.iface,
		TCPFlags: record.TCPAck | record.TCPPsh}
	if fromClient {
		r.SetAddrs(clientAddr, serverAddr)
		r.SrcPort, r.DstPort = c.cport, 8080
		r.ObsPoint = uint8(c.side.request)
		r.SetReply(false)
	} else {
		r.SetAddrs(serverAddr, clientAddr)
		r.SrcPort, r.DstPort = 8080, c.cport
		r.ObsPoint = uint8(c.side.reply)
		r.SetReply(true)
	}
	return r
}

// send delivers one segment of data and advances the stream; the parser
// sees it as the datapath would: the first SnippetMax bytes at most.
func (c *tconn) send(fromClient bool, data string) {
	seq := &c.sseq
	if fromClient {
		seq = &c.cseq
	}
	c.sendAt(fromClient, *seq, data)
	*seq += uint32(len(data))
}

func (c *tconn) sendAt(fromClient bool, seq uint32, data string) {
	payload := []byte(data)
	if len(payload) > 512 {
		payload = payload[:512]
	}
	// Each side acknowledges all the other has sent.
	ack := c.sseq
	if !fromClient {
		ack = c.cseq
	}
	c.p.Parse(c.packet(fromClient), bpf.Snippet{Payload: payload, Seq: seq, Ack: ack, Len: uint32(len(data))}, func(r *record.Record) {
		c.flows = append(c.flows, flowOf{*r, c.store.Get(r.Ext)})
	})
}

// summaries returns the flows as "REQUEST GET http://…" / "RESPONSE 200
// GET http://…" lines.
func (c *tconn) summaries() []string {
	var out []string
	for _, f := range c.flows {
		h := f.l7.GetHttp()
		s := f.l7.GetType().String() + " "
		if f.l7.GetType() == flowpb.L7FlowType_RESPONSE {
			s += strconv.Itoa(int(h.GetCode())) + " "
		}
		out = append(out, s+h.GetMethod()+" "+h.GetUrl())
	}
	return out
}

// skip advances the stream past a segment the parser never sees (the
// rate limit refused it).
func (c *tconn) skip(fromClient bool, data string) {
	if fromClient {
		c.cseq += uint32(len(data))
	} else {
		c.sseq += uint32(len(data))
	}
}
