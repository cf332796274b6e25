package relay

import (
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	observerpb "github.com/cilium/cilium/api/v1/observer"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"

	"github.com/foveanet/fovea/api/observer"
	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
	"github.com/foveanet/fovea/ringbuffer"
)

// agentKeepalive accepts the relay's keepalive pings as Fovea agents do.
var agentKeepalive = grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true})

// realAgent is an agent's Hubble server in-process: the agent's observer,
// with its real filters, over a ring of records tests write.
type realAgent struct {
	name string
	ring *ringbuffer.Ring[record.Record]
	node *flowview.Node
	addr string
}

func newRealAgent(tb testing.TB, name string, capacity int) *realAgent {
	tb.Helper()
	ring, err := ringbuffer.New[record.Record](capacity)
	if err != nil {
		tb.Fatal(err)
	}
	a := &realAgent{name: name, ring: ring, node: flowview.NewNode(name, "default", "v-test", nil, intern.NewTables())}
	srv, err := observer.New(ring, a.node)
	if err != nil {
		tb.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	gs := grpc.NewServer(agentKeepalive)
	observerpb.RegisterObserverServer(gs, srv)
	go gs.Serve(lis)
	tb.Cleanup(gs.Stop)
	a.addr = lis.Addr().String()
	return a
}

func (a *realAgent) peer() Peer { return Peer{Name: a.node.AbsoluteName(), Address: a.addr} }

// endpoint interns a pod endpoint ("ns/pod"; identity 1 with no pod is the
// host).
func (a *realAgent) endpoint(pod string, identity uint32, labels ...string) intern.Ref {
	ns, name, _ := strings.Cut(pod, "/")
	if ns != "" {
		labels = append(labels, "k8s:io.kubernetes.pod.namespace="+ns)
	}
	return a.node.Tables.Endpoints.Intern(pod+"|"+strings.Join(labels, ","), func() *flowpb.Endpoint {
		return &flowpb.Endpoint{ID: identity, Identity: identity, Namespace: ns, PodName: name, Labels: labels}
	})
}

// conn describes one packet of a connection.
type conn struct {
	src, dst         intern.Ref
	srcIP, dstIP     string
	srcPort, dstPort uint16
	proto            uint8
	reply            bool
}

func (a *realAgent) write(at time.Time, c conn) {
	rec := record.Record{
		Kind: record.KindTrace, Proto: c.proto, Time: at.UnixNano(),
		SrcPort: c.srcPort, DstPort: c.dstPort,
		Verdict:     uint8(flowpb.Verdict_FORWARDED),
		ObsPoint:    uint8(flowpb.TraceObservationPoint_TO_ENDPOINT),
		SrcEndpoint: c.src, DstEndpoint: c.dst,
	}
	if c.proto == record.ProtoTCP {
		rec.TCPFlags = record.TCPSyn
		if c.reply {
			rec.TCPFlags |= record.TCPAck
		}
	}
	rec.SetAddrs(netip.MustParseAddr(c.srcIP), netip.MustParseAddr(c.dstIP))
	rec.SetReply(c.reply)
	a.ring.Write(&rec)
}
