//go:build linux

package bpf

import "testing"

// The overlay of BenchmarkDatapathVXLAN, as flanneld programs it between
// two nodes: a VXLAN device per namespace over the veth, and each side's
// address a single host routed through the device to the other's.
const (
	benchVXLAN             = "fbvx"
	benchOverlayA          = "10.244.1.0"
	benchOverlayB          = "10.244.2.0"
	benchVTEPA, benchVTEPB = "02:fb:00:00:00:01", "02:fb:00:00:00:02"
)

// BenchmarkDatapathVXLAN is BenchmarkDatapath on an overlay node pair: the
// traffic goes through flannel-style VXLAN devices (id 1, port 8472,
// nolearning, static neighbour and FDB entries) over the veth pair, and the
// programs attach to both veths, where they decapsulate the VXLAN packets,
// and to both VXLAN devices, where the packets are the inner ones.
func BenchmarkDatapathVXLAN(b *testing.B) {
	runDatapath(b, newVXLANPair)
}

// newVXLANPair builds BenchmarkDatapathVXLAN's overlay.
func newVXLANPair(b *testing.B, tag string) *benchPair {
	p := newBenchPair(b, tag)
	// Each side's VXLAN device sits on its veth (lower) and sends from its
	// underlay address.
	type side struct {
		ns, dev, lower, underlay, overlay, vtep string
	}
	a := side{p.nsA, benchVXLAN + "0", benchIfA, benchIPA, benchOverlayA, benchVTEPA}
	z := side{p.nsB, benchVXLAN + "1", benchIfB, benchIPB, benchOverlayB, benchVTEPB}
	for _, s := range []struct{ self, peer side }{{a, z}, {z, a}} {
		self, peer := s.self, s.peer
		benchIP(b, "-n", self.ns, "link", "add", self.dev, "mtu", "1450", "address", self.vtep,
			"type", "vxlan", "id", "1", "local", self.underlay, "dev", self.lower, "dstport", "8472", "nolearning")
		benchIP(b, "-n", self.ns, "addr", "add", self.overlay+"/32", "dev", self.dev)
		benchIP(b, "-n", self.ns, "link", "set", self.dev, "up")
		benchIP(b, "-n", self.ns, "route", "add", peer.overlay+"/32", "via", peer.overlay, "dev", self.dev, "onlink")
		benchIP(b, "-n", self.ns, "neigh", "replace", peer.overlay, "lladdr", peer.vtep, "dev", self.dev, "nud", "permanent")
		benchIP(b, "netns", "exec", self.ns, "bridge", "fdb", "replace", peer.vtep, "dev", self.dev,
			"dst", peer.underlay, "self", "permanent")
	}
	p.dst = benchOverlayB
	p.ends = append(p.ends, benchEnd{a.ns, a.dev}, benchEnd{z.ns, z.dev})
	p.counted = benchEnd{z.ns, z.dev}
	return p
}
