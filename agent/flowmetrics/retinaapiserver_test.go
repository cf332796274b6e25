package flowmetrics

import (
	"net/netip"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/record"
)

// TestRetinaAPIServerGolden: handshakes from the API server's addresses
// (given, or labelled reserved:kube-apiserver) as they reach the node, in
// Retina's millisecond buckets, and SYNs retransmitted to them; nothing
// else.
func TestRetinaAPIServerGolden(t *testing.T) {
	now := time.Unix(1000, 0)
	n := testNode(t)
	m, err := New(Config{Retina: RetinaConfig{Mode: RetinaAdvanced}}, n, WithClock(func() time.Time { return now }),
		WithAPIServerAddrs([]netip.Addr{netip.MustParseAddr("198.18.100.1")}))
	if err != nil {
		t.Fatal(err)
	}
	synAck := func(src string, obs flowpb.TraceObservationPoint, us uint32, ep bool) record.Record {
		d := rec{src: src, dst: "192.168.0.2", sport: 6443, dport: 40000, proto: record.ProtoTCP, tcp: syn | ack, obs: obs, reply: yes}
		if ep {
			d.srcEP = apiServer
		}
		r := d.record(n)
		r.Detail = us
		return r
	}
	retrans := func(dst string, flags uint16) record.Record {
		r := rec{src: "192.168.0.2", dst: dst, sport: 40001, dport: 6443, proto: record.ProtoTCP, tcp: flags,
			obs: flowpb.TraceObservationPoint_FROM_STACK, reply: no}.record(n)
		r.Retransmit = true
		return r
	}
	feedRecords(m, []record.Record{
		synAck("198.18.100.1", fromNetwork, 3200, false), // given: 3.2 ms
		synAck("10.96.0.1", fromNetwork, 800, true),      // labelled: 0.8 ms
		synAck("198.18.100.1", fromNetwork, 9000, false), // over Retina's last bucket
		// Not the API server's, not where the node receives it, or no
		// SYN seen: not counted.
		synAck("203.0.113.7", fromNetwork, 1000, false),
		synAck("198.18.100.1", toEndpoint, 1000, false),
		synAck("198.18.100.1", fromNetwork, 0, false),
		// A SYN retransmitted to the API server went unanswered; a
		// retransmitted SYN-ACK or data segment, or a SYN to another
		// address, did not.
		retrans("198.18.100.1", syn),
		retrans("198.18.100.1", syn),
		retrans("198.18.100.1", syn|ack),
		retrans("198.18.100.1", psh|ack),
		retrans("203.0.113.7", syn),
	})
	golden(t, "retina-apiserver.golden", expose(t, gather(t, m.RetinaCollector()),
		"networkobservability_adv_forward_count", "networkobservability_adv_forward_bytes",
		"networkobservability_adv_tcpflags_count", "networkobservability_adv_tcpretrans_count"))
}
