//go:build linux

// Linux only: Cilium's parser imports its Linux datapath packages.

package flowview

import (
	"log/slog"
	"net/netip"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	v1 "github.com/cilium/cilium/pkg/hubble/api/v1"
	"github.com/cilium/cilium/pkg/hubble/parser/threefour"
	"github.com/cilium/cilium/pkg/hubble/testutils"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/foveanet/fovea/model/record"
)

// ciliumTraceNotify is the trace notification Cilium's own parser
// benchmark decodes (pkg/hubble/parser/threefour, BenchmarkL34Decode): a
// TCP ACK from 192.168.60.11:6443 to 10.16.236.178:54222 in an Ethernet
// frame.
var ciliumTraceNotify = []byte{4, 7, 0, 0, 7, 124, 26, 57, 66, 0, 0, 0, 66, 0, 0, 0, 1, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 246, 141, 178, 45, 33, 217, 246, 141,
	178, 45, 33, 217, 8, 0, 69, 0, 0, 52, 234, 28, 64, 0, 64, 6, 120, 49, 192,
	168, 60, 11, 10, 16, 236, 178, 25, 43, 211, 206, 42, 239, 210, 28, 180, 152,
	129, 103, 128, 16, 1, 152, 216, 156, 0, 0, 1, 1, 8, 10, 0, 90, 176, 98, 0,
	90, 176, 97, 0, 0}

// BenchmarkBuild builds the Hubble flow of one TCP segment side by side:
// impl=fovea from the record the datapath wrote, impl=cilium with Cilium's
// parser (v1.20.2) from the trace notification its datapath writes, as its
// observer decodes each event (time, node name, UUID, emitter, L3/L4,
// summary; see the loop), with no endpoint to look up on either side. Fovea's flow also
// carries what Cilium's observer adds later (the UUID is computed, not
// drawn). `benchstat -col /impl` compares them.
func BenchmarkBuild(b *testing.B) {
	b.Run("impl=fovea", func(b *testing.B) {
		node := testNode()
		rec := record.Record{
			Time: time.Now().UnixNano(), Kind: record.KindTrace, Proto: record.ProtoTCP,
			SrcPort: 6443, DstPort: 54222, TCPFlags: record.TCPAck,
			Verdict: uint8(flowpb.Verdict_FORWARDED), ObsPoint: uint8(flowpb.TraceObservationPoint_TO_STACK),
		}
		rec.SetAddrs(netip.MustParseAddr("192.168.60.11"), netip.MustParseAddr("10.16.236.178"))
		var e Flow
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			e.Reset(node, &rec, uint64(i))
			if e.Flow().GetL4().GetTCP().GetDestinationPort() != 54222 {
				b.Fatal("wrong flow")
			}
		}
	})
	b.Run("impl=cilium", func(b *testing.B) {
		p, err := threefour.New(slog.New(slog.DiscardHandler), &testutils.NoopEndpointGetter, &testutils.NoopIdentityGetter,
			&testutils.NoopDNSGetter, &testutils.NoopIPGetter, &testutils.NoopServiceGetter, &testutils.NoopLinkGetter)
		if err != nil {
			b.Fatal(err)
		}
		const id = "6f1c39a4-0d5e-4b7a-9c1e-2f3a4b5c6d7e"
		b.ReportAllocs()
		for b.Loop() {
			// What Cilium's parser.Decode wraps around the L3/L4 parser
			// (pkg/hubble/parser/parser.go), without the import of the
			// L7 parser that would pull Envoy into this module's graph.
			ts := timestamppb.New(time.Now())
			f := &flowpb.Flow{
				Emitter: &flowpb.Emitter{Name: v1.FlowEmitter, Version: v1.FlowEmitterVersion},
				Uuid:    id,
			}
			if err := p.Decode(ciliumTraceNotify, f); err != nil {
				b.Fatal(err)
			}
			f.Time, f.NodeName = ts, "default/node-1"
			if f.GetL4().GetTCP().GetDestinationPort() != 54222 {
				b.Fatal("wrong flow")
			}
		}
	})
}
