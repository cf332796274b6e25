//go:build linux

package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
)

// TestWindowsPktMonReplay runs the whole agent on the PktMon fixture
// stream of a Windows node (pods web-0 and client-0; db-0 on another
// node) and checks what the real hubble CLI shows of it and the metrics:
// one flow per packet however many components logged it (an overlay
// packet's VXLAN envelope none), pods on both ends, the component it was
// first seen at as its interface, drops with the Hubble reason and
// PktMon's own name.
func TestWindowsPktMonReplay(t *testing.T) {
	hubble := os.Getenv("HUBBLE_BIN")
	if hubble == "" {
		t.Skip("HUBBLE_BIN is not set: run with `make e2e` or HUBBLE_BIN=.bin/hubble")
	}
	sock, metricsAddr, _ := startPktmonAgent(t, "drop flow")
	e := &env{hubbleBin: hubble}
	// The inventory is read as the agent starts; wait until every flow is
	// served with its pods.
	var flows []*flowpb.Flow
	eventually(t, 30*time.Second, func() error {
		if _, err := os.Stat(sock); err != nil {
			return err
		}
		flows = e.observeJSON(t, sock, "--last", "100")
		if len(flows) != 12 {
			return fmt.Errorf("%d flows, want 12:%s", len(flows), describe(flows))
		}
		if flows[0].GetSource().GetPodName() != "client-0" {
			return fmt.Errorf("first flow's source pod %q: inventory not applied yet", flows[0].GetSource().GetPodName())
		}
		return nil
	})
	type seen struct {
		src, dst, verdict, obs, reason, summary, iface string
	}
	endpoint := func(ep *flowpb.Endpoint, ip string, port uint32) string {
		name := ip
		if ep.GetPodName() != "" {
			name = ep.GetNamespace() + "/" + ep.GetPodName()
		}
		if port != 0 {
			name += fmt.Sprintf(":%d", port)
		}
		return name
	}
	var got []seen
	for _, f := range flows {
		sport, dport := f.GetL4().GetTCP().GetSourcePort()+f.GetL4().GetUDP().GetSourcePort(), f.GetL4().GetTCP().GetDestinationPort()+f.GetL4().GetUDP().GetDestinationPort()
		s := seen{
			src: endpoint(f.GetSource(), f.GetIP().GetSource(), sport), dst: endpoint(f.GetDestination(), f.GetIP().GetDestination(), dport),
			verdict: f.GetVerdict().String(), summary: f.GetSummary(),
			iface: fmt.Sprintf("%d/%s", f.GetInterface().GetIndex(), f.GetInterface().GetName()),
		}
		if f.GetVerdict() == flowpb.Verdict_DROPPED {
			s.reason = f.GetDropReasonDesc().String()
		} else {
			s.obs = f.GetTraceObservationPoint().String()
		}
		if f.GetNodeName() != "mixed/win-node-1" {
			t.Errorf("flow %v: node %q, want mixed/win-node-1", s, f.GetNodeName())
		}
		got = append(got, s)
	}
	// PktMon components (pktmon_list.json): 2 the NIC, 5 and 6 client-0's
	// and web-0's VM NICs, 7 VFP, 9 the host's TCP/IP.
	const nic, client, web, vfp, tcpip = "2/Mellanox ConnectX-4 Lx Virtual Ethernet Adapter", "5/5e6f7a8b9c0d_l2bridge",
		"6/0f3b2a1c9d8e_l2bridge", "7/Virtual Filtering Platform VMSwitch Extension", "9/TCPIP"
	want := []seen{
		{"shop/client-0:40000", "shop/db-0:5432", "FORWARDED", "FROM_ENDPOINT", "", "TCP Flags: SYN", client},
		{"shop/db-0:5432", "shop/client-0:40000", "FORWARDED", "FROM_NETWORK", "", "TCP Flags: SYN, ACK", nic},
		{"shop/db-0:41000", "shop/web-0:8080", "FORWARDED", "FROM_NETWORK", "", "TCP Flags: SYN", nic},
		{"shop/db-0:41000", "shop/web-0:8080", "DROPPED", "", "POLICY_DENIED", "TCP Flags: SYN; kernel drop reason: Drop_FailedSecurityPolicy", vfp},
		{"shop/web-0", "192.0.2.1", "FORWARDED", "FROM_ENDPOINT", "", "ICMPv4 EchoRequest", web},
		{"shop/web-0", "192.0.2.1", "DROPPED", "", "FIB_LOOKUP_FAILED", "ICMPv4 EchoRequest; kernel drop reason: Drop_NL_NoRoute", tcpip},
		{"shop/web-0:53000", "fd00::53:53", "FORWARDED", "FROM_ENDPOINT", "", "UDP", tcpip},
		{"fd00::99:1", "shop/web-0:2", "DROPPED", "", "DROP_REASON_UNKNOWN", "UDP; kernel drop reason: reason 4242", nic},
		{"10.0.0.4:50000", "10.0.0.1:443", "FORWARDED", "TO_NETWORK", "", "TCP Flags: ACK, PSH", nic},
		{"shop/client-0:40000", "shop/db-0:5432", "FORWARDED", "FROM_ENDPOINT", "", "TCP Flags: SYN", client},
		{"10.0.0.4:51000", "shop/web-0:8080", "FORWARDED", "TO_ENDPOINT", "", "TCP Flags: SYN", web},
		// The overlay packet: the pod flow, not its VXLAN envelope.
		{"shop/db-0:42000", "shop/web-0:8080", "FORWARDED", "FROM_NETWORK", "", "TCP Flags: SYN", vfp},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("flows\n got %v\nwant %v", got, want)
	}
	// What a user types: the drops of a pod, in hubble's own format.
	out := e.hubble(t, sock, "observe", "--last", "100", "--verdict", "DROPPED", "--to-pod", "shop/web-0")
	t.Logf("hubble observe --verdict DROPPED --to-pod shop/web-0:\n%s", out)
	for _, s := range []string{"shop/db-0:41000", "shop/web-0:8080", "Policy denied", "DROPPED", "Drop_FailedSecurityPolicy"} {
		if !strings.Contains(out, s) {
			t.Errorf("hubble observe --verdict DROPPED --to-pod shop/web-0: no %q in\n%s", s, out)
		}
	}
	if out := e.hubble(t, sock, "list", "nodes"); !strings.Contains(out, "mixed/win-node-1") {
		t.Errorf("hubble list nodes: no mixed/win-node-1 in\n%s", out)
	}
	// The metrics: the decoder's accounting, Hubble's drop counts and
	// Retina's Windows series.
	body := scrapeText(t, metricsAddr)
	for _, s := range []string{
		`fovea_windows_events_read_total{event="packet"} 15`,
		`fovea_windows_events_read_total{event="drop"} 3`,
		`fovea_windows_events_dropped_total{reason="duplicate_appearance"} 4`,
		`fovea_windows_events_dropped_total{reason="tunnel_appearance"} 1`,
		`fovea_windows_events_dropped_total{reason="not_ip"} 1`,
		`fovea_windows_etw_lost_total{what="events"} 1`,
		`hubble_lost_events_total{source="perf_event_ring_buffer"} 1`,
		`hubble_drop_total{protocol="TCP",reason="POLICY_DENIED"} 1`,
		`networkobservability_forward_count{cluster="mixed",direction="ingress",instance="win-node-1"} 940`,
		`networkobservability_drop_count{cluster="mixed",direction="ingress",instance="win-node-1",reason="aclrule"} 5`,
		`networkobservability_tcp_flag_gauges{cluster="mixed",direction="egress",flag="SYN",instance="win-node-1"} 12`,
		`networkobservability_windows_hns_stats{cluster="mixed",direction="win_packets_recv_count",instance="win-node-1"} 940`,
	} {
		if !strings.Contains(body, s+"\n") {
			t.Errorf("/metrics: no %s", s)
		}
	}
}
