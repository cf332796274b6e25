package flowview

import (
	"strconv"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/record"
)

// Aggregated reports whether a trace record stands for more than one
// packet: a report of the datapath's per-connection aggregation.
func Aggregated(r *record.Record) bool {
	return r.Kind == record.KindTrace && !r.Retransmit && r.Count > 1
}

// AggregateSummary is the summary of an aggregated report: the packet's
// summary and what the report stands for, so `hubble observe` shows it in
// its last column: "TCP Flags: ACK, PSH; 120 packets, 180000 bytes".
func AggregateSummary(r *record.Record) string {
	return Summary(r) + "; " + strconv.FormatUint(uint64(r.Count), 10) + " packets, " +
		strconv.FormatUint(uint64(r.Bytes), 10) + " bytes"
}

// buildAggregate counts an aggregated report's packets in flow.Aggregate
// under its traffic direction: Hubble emits a flow per packet, so a report
// of n packets stands for n of Hubble's flows.
func buildAggregate(r *record.Record, dir flowpb.TrafficDirection) *flowpb.Aggregate {
	switch dir {
	case flowpb.TrafficDirection_INGRESS:
		return &flowpb.Aggregate{IngressFlowCount: r.Count}
	case flowpb.TrafficDirection_EGRESS:
		return &flowpb.Aggregate{EgressFlowCount: r.Count}
	}
	return &flowpb.Aggregate{UnknownDirectionFlowCount: r.Count}
}
