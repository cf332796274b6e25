package filters

import (
	"net/netip"
	"strconv"
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
)

// testNode is the node every test event is observed on.
func testNode() *flowview.Node {
	return flowview.NewNode("node-1", "prod", "v0.0.0-test", []string{"kubernetes.io/arch=amd64"}, intern.NewTables())
}

// ev describes a test event; zero fields stay unset.
type ev struct {
	kind               record.Kind
	src, dst           string
	sport, dport       uint16
	proto              uint8
	tcp                uint16
	verdict            flowpb.Verdict
	obs                flowpb.TraceObservationPoint
	dropReason         flowpb.DropReason
	reply              *bool
	srcEP, dstEP       *flowpb.Endpoint
	srcSvc, dstSvc     *flowpb.Service
	srcNames, dstNames []string
	iface              *flowpb.NetworkInterface
}

var refKeys int

func internRef[T any](tab *intern.Table[T], v T) intern.Ref {
	refKeys++
	return tab.Intern(strconv.Itoa(refKeys), func() T { return v })
}

// build builds a flowview.Flow on node n.
func (d ev) build(n *flowview.Node) *flowview.Flow {
	var r record.Record
	r.Kind = d.kind
	if r.Kind == 0 {
		r.Kind = record.KindTrace
	}
	src, dst := netip.MustParseAddr(or(d.src, "10.0.0.1")), netip.MustParseAddr(or(d.dst, "10.0.0.2"))
	r.SetAddrs(src, dst)
	r.SrcPort, r.DstPort, r.Proto, r.TCPFlags = d.sport, d.dport, d.proto, d.tcp
	r.Verdict, r.ObsPoint, r.DropReason = uint8(d.verdict), uint8(d.obs), uint16(d.dropReason)
	if d.reply != nil {
		r.SetReply(*d.reply)
	}
	t := n.Tables
	if d.srcEP != nil {
		r.SrcEndpoint = internRef(t.Endpoints, d.srcEP)
	}
	if d.dstEP != nil {
		r.DstEndpoint = internRef(t.Endpoints, d.dstEP)
	}
	if d.srcSvc != nil {
		r.SrcService = internRef(t.Services, d.srcSvc)
	}
	if d.dstSvc != nil {
		r.DstService = internRef(t.Services, d.dstSvc)
	}
	if d.srcNames != nil {
		r.SrcNames = internRef(t.Names, d.srcNames)
	}
	if d.dstNames != nil {
		r.DstNames = internRef(t.Names, d.dstNames)
	}
	if d.iface != nil {
		r.Iface = internRef(t.Interfaces, d.iface)
	}
	e := &flowview.Flow{}
	e.Reset(n, &r, 1)
	return e
}

func lostEvent(n *flowview.Node) *flowview.Flow {
	e := &flowview.Flow{}
	e.Reset(n, &record.Record{Kind: record.KindLost, Count: 3}, 2)
	return e
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func ptr[T any](v T) *T { return &v }

// mustBuild compiles a single whitelist filter.
func mustBuild(t *testing.T, ff *flowpb.FlowFilter) Func {
	t.Helper()
	f, err := Build([]*flowpb.FlowFilter{ff}, nil)
	if err != nil {
		t.Fatalf("Build(%v): %v", ff, err)
	}
	return f
}

// wantErr checks that building ff fails with exactly msg.
func wantErr(t *testing.T, ff *flowpb.FlowFilter, msg string) {
	t.Helper()
	_, err := Build([]*flowpb.FlowFilter{ff}, nil)
	if err == nil {
		t.Fatalf("Build(%v) succeeded, want error %q", ff, msg)
	}
	if err.Error() != msg {
		t.Fatalf("Build(%v) error\n got %q\nwant %q", ff, err.Error(), msg)
	}
}

type eventCase struct {
	name string
	ev   ev
	want bool
}

// checkEvents evaluates f on each case's event.
func checkEvents(t *testing.T, f Func, cases []eventCase) {
	t.Helper()
	n := testNode()
	for _, c := range cases {
		if got := f(c.ev.build(n)); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

type flowCase struct {
	name string
	flow *flowpb.Flow
	want bool
}

func checkFlows(t *testing.T, f flowFunc, cases []flowCase) {
	t.Helper()
	for _, c := range cases {
		if got := f(c.flow); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}
