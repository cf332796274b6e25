package ringbuffer_test

import (
	"fmt"
	"net/netip"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	v1 "github.com/cilium/cilium/pkg/hubble/api/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
)

// Test flows: enriched pod-to-pod TCP flows among a fixed set of endpoints,
// built the way each side keeps them. Cilium's decoder allocates a fresh
// flow, with fresh endpoint strings and label slices, for every event;
// Fovea keeps a record and interns each endpoint once.

const endpoints = 200

var (
	emitter    = &flowpb.Emitter{Name: "Hubble", Version: "v1.20.2"}
	nodeName   = "kind-worker"
	nodeLabels = []string{"kubernetes.io/hostname=kind-worker", "kubernetes.io/os=linux", "topology.kubernetes.io/zone=zone-a"}
	epoch      = time.Date(2026, 11, 25, 1, 0, 0, 0, time.UTC)
)

func endpointPair(i int) (src, dst int) { return i % endpoints, (i*7 + 3) % endpoints }

func endpointAddr(ep int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, 244, byte(ep / 250), byte(ep%250 + 1)})
}

// newEndpoint builds endpoint ep from scratch, as a decoder resolving it does.
func newEndpoint(ep int) *flowpb.Endpoint {
	ns := fmt.Sprintf("team-%d", ep%10)
	app := fmt.Sprintf("service-%d", ep/2)
	return &flowpb.Endpoint{
		ID:          uint32(1000 + ep),
		Identity:    uint32(20000 + ep/2),
		ClusterName: "default",
		Namespace:   ns,
		PodName:     fmt.Sprintf("%s-7d9f8b6c5d-%05x", app, ep*7919),
		Labels: []string{
			"k8s:app=" + app,
			"k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=" + ns,
			"k8s:io.cilium.k8s.policy.cluster=default",
			"k8s:io.cilium.k8s.policy.serviceaccount=" + app,
			"k8s:io.kubernetes.pod.namespace=" + ns,
			"k8s:version=v" + fmt.Sprint(ep%3+1),
		},
		Workloads: []*flowpb.Workload{{Name: app, Kind: "Deployment"}},
	}
}

// ciliumEvent builds flow i as Cilium's ring holds it.
func ciliumEvent(i int) *v1.Event {
	src, dst := endpointPair(i)
	ts := timestamppb.New(epoch.Add(time.Duration(i) * time.Microsecond))
	f := &flowpb.Flow{
		Time:     ts,
		Uuid:     fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", i, i>>8, i&0xfff, i>>4&0xfff, uint64(i)*2654435761),
		Emitter:  emitter,
		Verdict:  flowpb.Verdict_FORWARDED,
		Ethernet: &flowpb.Ethernet{Source: fmt.Sprintf("3e:4f:a1:%02x:%02x:01", src/256, src%256), Destination: fmt.Sprintf("3e:4f:a1:%02x:%02x:01", dst/256, dst%256)},
		IP:       &flowpb.IP{Source: endpointAddr(src).String(), Destination: endpointAddr(dst).String(), IpVersion: flowpb.IPVersion_IPv4},
		L4: &flowpb.Layer4{Protocol: &flowpb.Layer4_TCP{TCP: &flowpb.TCP{
			SourcePort: uint32(32768 + i%28000), DestinationPort: 8080, Flags: &flowpb.TCPFlags{PSH: true, ACK: true},
		}}},
		Source:                newEndpoint(src),
		Destination:           newEndpoint(dst),
		Type:                  flowpb.FlowType_L3_L4,
		NodeName:              nodeName,
		NodeLabels:            nodeLabels,
		EventType:             &flowpb.CiliumEventType{Type: 4, SubType: int32(flowpb.TraceObservationPoint_TO_ENDPOINT)},
		TrafficDirection:      flowpb.TrafficDirection_INGRESS,
		TraceObservationPoint: flowpb.TraceObservationPoint_TO_ENDPOINT,
		IsReply:               wrapperspb.Bool(false),
		Interface:             &flowpb.NetworkInterface{Index: uint32(10 + dst), Name: fmt.Sprintf("lxc%012x", dst*104729)},
		Summary:               "TCP Flags: " + "ACK, PSH",
	}
	return &v1.Event{Timestamp: ts, Event: f}
}

// internEndpoints interns every test endpoint and its interface and returns
// their refs.
func internEndpoints(tables *intern.Tables) (eps, ifaces [endpoints]intern.Ref) {
	for ep := range endpoints {
		eps[ep] = tables.Endpoints.Intern(fmt.Sprint(ep), func() *flowpb.Endpoint { return newEndpoint(ep) })
		ifaces[ep] = tables.Interfaces.Intern(fmt.Sprint(ep), func() *flowpb.NetworkInterface {
			return &flowpb.NetworkInterface{Index: uint32(10 + ep), Name: fmt.Sprintf("lxc%012x", ep*104729)}
		})
	}
	return eps, ifaces
}

// foveaRecord builds flow i as Fovea's ring holds it.
func foveaRecord(i int, eps, ifaces *[endpoints]intern.Ref) record.Record {
	src, dst := endpointPair(i)
	r := record.Record{
		Time:        epoch.Add(time.Duration(i) * time.Microsecond).UnixNano(),
		SrcPort:     uint16(32768 + i%28000),
		DstPort:     8080,
		TCPFlags:    record.TCPAck | record.TCPPsh,
		Kind:        record.KindTrace,
		Proto:       record.ProtoTCP,
		Verdict:     uint8(flowpb.Verdict_FORWARDED),
		ObsPoint:    uint8(flowpb.TraceObservationPoint_TO_ENDPOINT),
		Iface:       ifaces[dst],
		SrcEndpoint: eps[src],
		DstEndpoint: eps[dst],
		Bytes:       1448,
	}
	r.SetAddrs(endpointAddr(src), endpointAddr(dst))
	r.SetReply(false)
	return r
}
