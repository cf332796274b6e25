//go:build linux

package bpf

import (
	"errors"
	"net/netip"
	"os/exec"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	netbpf "golang.org/x/net/bpf"
)

// icmpFilter accepts IPv4 ICMP, keeping snap bytes.
func icmpFilter(t testing.TB, snap uint32) []netbpf.RawInstruction {
	t.Helper()
	prog, err := netbpf.Assemble([]netbpf.Instruction{
		netbpf.LoadAbsolute{Off: 12, Size: 2},
		netbpf.JumpIf{Cond: netbpf.JumpEqual, Val: 0x0800, SkipFalse: 3},
		netbpf.LoadAbsolute{Off: 23, Size: 1},
		netbpf.JumpIf{Cond: netbpf.JumpEqual, Val: 1, SkipFalse: 1},
		netbpf.RetConstant{Val: snap},
		netbpf.RetConstant{Val: 0},
	})
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

// testPacketSocket runs in the child's host namespace: the pod's address
// leads to the host veth, and a socket there sees the pod's pings, cut to
// the snap length with their wire length kept, and nothing its filter
// rejects.
func testPacketSocket(t *testing.T) {
	l, ok, err := PodLink([]netip.Addr{netip.MustParseAddr(podIPv4)})
	if err != nil || !ok || l.Name != hostIf {
		t.Fatalf("PodLink(%s) = %+v, %v, %v; want %s", podIPv4, l, ok, err, hostIf)
	}
	if _, ok, _ := PodLink([]netip.Addr{netip.MustParseAddr("192.0.2.1")}); ok {
		t.Error("an address no veth leads to has a pod link")
	}
	s, err := OpenPacketSocket(l.Index, icmpFilter(t, 64), 1<<20, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sh(t, "ping", "-c", "2", "-i", "0.2", "-s", "200", podIPv4)
	exchangeTraffic(t) // TCP and UDP the filter rejects
	buf := make([]byte, 64)
	// exchangeTraffic pings once more, with 56 bytes of payload.
	var got []PacketInfo
	deadline := time.Now().Add(5 * time.Second)
	for len(got) < 6 && time.Now().Before(deadline) {
		info, err := s.Read(buf)
		if errors.Is(err, ErrNoPacket) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if buf[23] != 1 {
			t.Fatalf("the filter let a packet of protocol %d through", buf[23])
		}
		got = append(got, info)
	}
	if len(got) < 6 {
		t.Fatalf("read %d ICMP packets, want 3 requests and 3 replies", len(got))
	}
	big := 0
	for _, p := range got {
		// 14 Ethernet + 20 IPv4 + 8 ICMP + 200 (or 56) of payload.
		if p.Captured != 64 || (p.Length != 242 && p.Length != 98) || time.Since(p.Time) > time.Minute {
			t.Errorf("packet %+v, want 64 of 242 or 98 bytes, received just now", p)
		}
		if p.Length == 242 {
			big++
		}
	}
	if big != 4 {
		t.Errorf("%d packets of 242 bytes, want the 2 big pings and their replies", big)
	}
	if packets, drops, err := s.Stats(); err != nil || packets < 4 || drops != 0 {
		t.Errorf("stats: %d packets, %d drops, %v", packets, drops, err)
	}

	// A deleted interface ends the socket's reads.
	sh(t, "ip", "link", "add", "fvx0", "type", "veth", "peer", "name", "fvy0")
	sh(t, "ip", "link", "set", "fvx0", "up")
	fvx, err := netlink.LinkByName("fvx0")
	if err != nil {
		t.Fatal(err)
	}
	x := fvx.Attrs().Index
	gone, err := OpenPacketSocket(x, icmpFilter(t, 64), 1<<20, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer gone.Close()
	if !LinkExists(Link{Index: x, Name: "fvx0"}) {
		t.Error("fvx0 does not exist")
	}
	_ = exec.Command("ip", "link", "del", "fvx0").Run()
	if LinkExists(Link{Index: x, Name: "fvx0"}) {
		t.Error("fvx0 exists after its deletion")
	}
	deadline = time.Now().Add(5 * time.Second)
	for {
		_, err := gone.Read(buf)
		if errors.Is(err, ErrInterfaceGone) {
			break
		}
		if !errors.Is(err, ErrNoPacket) || time.Now().After(deadline) {
			t.Fatalf("read on a deleted interface: %v, want ErrInterfaceGone", err)
		}
	}
}
