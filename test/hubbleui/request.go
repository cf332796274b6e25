package hubbleui

import (
	flowpb "github.com/cilium/cilium/api/v1/flow"
	observerpb "github.com/cilium/cilium/api/v1/observer"
)

// noise are the labels whose endpoints the UI leaves off its service map.
var noise = []string{"reserved:unknown", "reserved:host", "reserved:remote-node", "k8s:app=prometheus", "k8s:k8s-app=kube-dns"}

// FlowsRequest is the GetFlows request Hubble UI's backend streams for
// namespace ns: requests into or out of the namespace (no replies), without
// reserved, DNS and monitoring traffic.
func FlowsRequest(ns string) *observerpb.GetFlowsRequest {
	return &observerpb.GetFlowsRequest{
		Follow: true,
		Number: 10000,
		Whitelist: []*flowpb.FlowFilter{
			{SourcePod: []string{ns + "/"}, Reply: []bool{false}},
			{DestinationPod: []string{ns + "/"}, Reply: []bool{false}},
		},
		Blacklist: []*flowpb.FlowFilter{
			{SourceLabel: noise},
			{DestinationLabel: noise},
			{DestinationLabel: []string{"k8s:k8s-app=kube-dns"}, DestinationPort: []string{"53"}},
			{SourceFqdn: []string{"*.cluster.local*"}},
			{DestinationFqdn: []string{"*.cluster.local*"}},
		},
	}
}

// Usable reports whether the UI can draw f: its backend drops flows without
// l4, source or destination, and groups cards by identity (then workload)
// and names them by label.
func Usable(f *flowpb.Flow) bool {
	return f.GetL4() != nil && f.GetSource() != nil && f.GetDestination() != nil
}
