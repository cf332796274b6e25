//go:build linux

package bpf

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// The two pods of BenchmarkDatapathRouted, each behind its node's veth as
// a routed CNI (Calico without encapsulation, kube-router, flannel
// host-gw) wires them: the pod's default route points at the host side,
// and each node routes the other's pod subnet over the node link.
const (
	benchPodIfA, benchPodIfB       = "fbpod0", "fbpod1"
	benchPodIPA, benchPodIPB       = "10.79.1.2", "10.79.2.2"
	benchPodGWA, benchPodGWB       = "10.79.1.1", "10.79.2.1"
	benchPodNetA, benchPodNetB     = "10.79.1.0/24", "10.79.2.0/24"
	benchNodeLinkA, benchNodeLinkB = benchIPA, benchIPB
)

// BenchmarkDatapathRouted is BenchmarkDatapath across two routed nodes:
// pod a → its veth → node 1 → the node link → node 2 → pod b's veth → pod
// b. The programs attach where the agent attaches on each node (the pods'
// host-side veths and the node link), so every packet pays them four
// times, on one CPU: a veth hands its packet to the next namespace on the
// sending CPU.
func BenchmarkDatapathRouted(b *testing.B) {
	runDatapath(b, newRoutedPair)
}

// newRoutedPair builds BenchmarkDatapathRouted's nodes and pods.
func newRoutedPair(b *testing.B, tag string) *benchPair {
	p := newBenchPair(b, tag) // nsA and nsB are the nodes, the pair their link
	nodeA, nodeB := p.nsA, p.nsB
	podA := fmt.Sprintf("fovea-bench-pa%s-%d", tag, os.Getpid())
	podB := fmt.Sprintf("fovea-bench-pb%s-%d", tag, os.Getpid())
	for _, s := range []struct{ node, pod, hostIf, podIP, gw, podNet, peerNet, peerLink string }{
		{nodeA, podA, benchPodIfA, benchPodIPA, benchPodGWA, benchPodNetA, benchPodNetB, benchNodeLinkB},
		{nodeB, podB, benchPodIfB, benchPodIPB, benchPodGWB, benchPodNetB, benchPodNetA, benchNodeLinkA},
	} {
		benchIP(b, "netns", "add", s.pod)
		b.Cleanup(func() { _ = exec.Command("ip", "netns", "del", s.pod).Run() })
		benchIP(b, "-n", s.node, "link", "add", s.hostIf, "type", "veth", "peer", "name", "eth0", "netns", s.pod)
		benchIP(b, "-n", s.node, "addr", "add", s.gw+"/24", "dev", s.hostIf)
		benchIP(b, "-n", s.node, "link", "set", s.hostIf, "up")
		benchIP(b, "-n", s.pod, "addr", "add", s.podIP+"/24", "dev", "eth0")
		benchIP(b, "-n", s.pod, "link", "set", "eth0", "up")
		benchIP(b, "-n", s.pod, "route", "add", "default", "via", s.gw)
		benchIP(b, "-n", s.node, "route", "add", s.peerNet, "via", s.peerLink)
		if out, err := exec.Command("ip", "netns", "exec", s.node, "sysctl", "-qw", "net.ipv4.ip_forward=1").CombinedOutput(); err != nil {
			b.Fatalf("enable forwarding in %s: %v\n%s", s.node, err, out)
		}
	}
	p.nsA, p.nsB, p.dst = podA, podB, benchPodIPB
	p.ends = []benchEnd{{nodeA, benchPodIfA}, {nodeA, benchIfA}, {nodeB, benchIfB}, {nodeB, benchPodIfB}}
	p.counted = benchEnd{nodeB, benchIfB}
	return p
}
