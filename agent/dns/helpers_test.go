package dns_test

import (
	"encoding/binary"
	"net/netip"
	"testing"

	mdns "github.com/miekg/dns"

	"github.com/foveanet/fovea/model/record"
)

var (
	client = netip.MustParseAddr("10.0.1.5")
	server = netip.MustParseAddr("10.0.2.53")
)

// packet is a record of a DNS packet between client and server.
func packet(proto uint8, response bool, t int64) *record.Record {
	r := &record.Record{Kind: record.KindTrace, Proto: proto, Time: t, Iface: 3, ObsPoint: 9, Bytes: 100}
	if response {
		r.SetAddrs(server, client)
		r.SrcPort, r.DstPort = 53, 40000
		r.SetReply(true)
	} else {
		r.SetAddrs(client, server)
		r.SrcPort, r.DstPort = 40000, 53
	}
	if proto == record.ProtoTCP {
		r.TCPFlags = record.TCPPsh | record.TCPAck
	}
	return r
}

func query(name string, qtype uint16) *mdns.Msg {
	m := new(mdns.Msg)
	m.SetQuestion(name, qtype)
	m.Id = 4242
	return m
}

func answer(q *mdns.Msg, rrs ...string) *mdns.Msg {
	m := new(mdns.Msg)
	m.SetReply(q)
	for _, s := range rrs {
		rr, err := mdns.NewRR(s)
		if err != nil {
			panic(err)
		}
		m.Answer = append(m.Answer, rr)
	}
	return m
}

func wire(t testing.TB, m *mdns.Msg, proto uint8) []byte {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Fatalf("pack: %v", err)
	}
	if proto == record.ProtoTCP {
		b = append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...)
	}
	return b
}
