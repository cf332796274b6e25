//go:build linux

package bpf

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/record"
	"github.com/foveanet/fovea/test/cluster"
)

// testMasquerade has the node masquerade the pod's connection to a "world"
// namespace behind a second veth, as a node does for a pod talking to the
// internet, and checks that the capture on that veth reports the packet
// leaving as the pod's, with the node's address as the translated source.
func testMasquerade(t *testing.T, podNS string) {
	world := fmt.Sprintf("fovea-bpf-world-%d", os.Getpid())
	sh(t, "ip", "netns", "add", world)
	defer func() { _ = exec.Command("ip", "netns", "del", world).Run() }()
	const (
		nodeIf  = "fvw0"
		nodeIP  = "10.99.0.1"
		worldIP = "10.99.0.2"
	)
	sh(t, "ip", "link", "add", nodeIf, "type", "veth", "peer", "name", "eth0", "netns", world)
	sh(t, "ip", "addr", "add", nodeIP+"/24", "dev", nodeIf)
	sh(t, "ip", "link", "set", nodeIf, "up")
	sh(t, "ip", "-n", world, "addr", "add", worldIP+"/24", "dev", "eth0")
	sh(t, "ip", "-n", world, "link", "set", "eth0", "up")
	sh(t, "ip", "-n", world, "link", "set", "lo", "up")
	sh(t, "ip", "-n", podNS, "route", "add", "10.99.0.0/24", "via", hostIPv4)
	defer func() { _ = exec.Command("ip", "-n", podNS, "route", "del", "10.99.0.0/24").Run() }()
	sh(t, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	rule := []string{"POSTROUTING", "-t", "nat", "-s", podIPv4, "-o", nodeIf, "-j", "MASQUERADE"}
	sh(t, "iptables", append([]string{"-A"}, rule...)...)
	defer func() { _ = exec.Command("iptables", append([]string{"-D"}, rule...)...).Run() }()

	var l net.Listener
	err := cluster.NewNetns(world).Do(func() error {
		var err error
		l, err = net.Listen("tcp", net.JoinHostPort(worldIP, "8080"))
		return err
	})
	if err != nil {
		t.Fatalf("listen in %s: %v", world, err)
	}
	defer l.Close()
	go serveTCP(l)

	c := startCapture(t, Config{Interfaces: []string{nodeIf}})
	c.waitHook(t, nodeIf+":true", 5*time.Second)
	defer c.stop(t)
	if err := dialFromPod(t, podNS, "tcp", net.JoinHostPort(worldIP, "8080")); err != nil {
		t.Fatalf("dial the world from the pod: %v", err)
	}

	pod, dst := netip.MustParseAddr(podIPv4), netip.MustParseAddr(worldIP)
	r := c.waitRecord(t, "the masqueraded SYN", func(r *record.Record) bool {
		return r.Kind == record.KindTrace && r.DstAddr() == dst && r.DstPort == 8080 && r.TCPFlags&record.TCPSyn != 0 &&
			flowpb.TraceObservationPoint(r.ObsPoint) == flowpb.TraceObservationPoint_TO_NETWORK
	})
	if r.SrcAddr() != pod || r.Flags&record.FlagSNAT == 0 {
		t.Errorf("SYN leaving from %s (flags %#x), want the pod's %s marked translated", r.SrcAddr(), r.Flags, pod)
	}
	if names := c.tables.Names.Get(r.Ext); len(names) != 1 || names[0] != nodeIP {
		t.Errorf("translated source %v, want %s", names, nodeIP)
	}
	// The reply comes back to the node's address, before it is translated
	// back: reported as it arrives.
	reply := c.waitRecord(t, "the SYN-ACK", func(r *record.Record) bool {
		return r.Kind == record.KindTrace && r.SrcAddr() == dst && r.SrcPort == 8080 && r.TCPFlags&record.TCPSyn != 0
	})
	if reply.DstAddr() != netip.MustParseAddr(nodeIP) || reply.Flags&record.FlagSNAT != 0 {
		t.Errorf("SYN-ACK to %s (flags %#x), want to the node's %s, untranslated", reply.DstAddr(), reply.Flags, nodeIP)
	}
}
