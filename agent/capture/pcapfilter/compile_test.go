package pcapfilter

import (
	"net"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// frame builds an Ethernet frame from src to dst of the given transport
// (layers.IPProtocolTCP, UDP or ICMPv4/ICMPv6) and ports.
func frame(t *testing.T, src, dst string, proto layers.IPProtocol, sport, dport uint16, payload int) []byte {
	t.Helper()
	s, d := net.ParseIP(src), net.ParseIP(dst)
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}}
	var ip gopacket.NetworkLayer
	var ls []gopacket.SerializableLayer
	if s.To4() != nil {
		eth.EthernetType = layers.EthernetTypeIPv4
		v4 := &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, SrcIP: s, DstIP: d}
		ip, ls = v4, []gopacket.SerializableLayer{eth, v4}
	} else {
		eth.EthernetType = layers.EthernetTypeIPv6
		v6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto, SrcIP: s, DstIP: d}
		ip, ls = v6, []gopacket.SerializableLayer{eth, v6}
	}
	switch proto {
	case layers.IPProtocolTCP:
		tcp := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport), SYN: true, Window: 1000}
		if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
			t.Fatal(err)
		}
		ls = append(ls, tcp)
	case layers.IPProtocolUDP:
		udp := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
		if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
			t.Fatal(err)
		}
		ls = append(ls, udp)
	case layers.IPProtocolICMPv4:
		ls = append(ls, &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0)})
	}
	ls = append(ls, gopacket.Payload(make([]byte, payload)))
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestCompileFilter(t *testing.T) {
	tcp80 := frame(t, "10.244.1.11", "10.244.2.11", layers.IPProtocolTCP, 40000, 80, 100)
	udp53 := frame(t, "10.244.1.11", "10.96.0.10", layers.IPProtocolUDP, 40000, 53, 30)
	icmp := frame(t, "10.244.1.12", "10.244.2.11", layers.IPProtocolICMPv4, 0, 0, 8)
	tcp6 := frame(t, "fd00:10:244:1::11", "fd00:10:244:2::11", layers.IPProtocolTCP, 40000, 8080, 10)
	for _, tc := range []struct {
		expr string
		// want is what each of tcp80, udp53, icmp and tcp6 gives.
		want [4]bool
	}{
		{"", [4]bool{true, true, true, true}},
		{"tcp port 80", [4]bool{true, false, false, false}},
		{"udp", [4]bool{false, true, false, false}},
		{"not icmp", [4]bool{true, true, false, true}},
		{"host 10.244.1.11", [4]bool{true, true, false, false}},
		{"src host 10.244.1.12 or port 8080", [4]bool{false, false, true, true}},
		{"ip6 and tcp", [4]bool{false, false, false, true}},
		{"tcp port 80 and not host 10.244.1.12", [4]bool{true, false, false, false}},
		{"(tcp or udp) and not src net fd00::/8", [4]bool{true, true, false, false}},
		{"udp dst portrange 50-60 || icmp", [4]bool{false, true, true, false}},
		{"net 10.244.0.0/16 && !udp", [4]bool{true, false, true, false}},
		{"dst 10.244.2.11", [4]bool{true, false, true, false}},
		{"ip6 dst port 8080", [4]bool{false, false, false, true}},
		{"icmp6 or arp", [4]bool{false, false, false, false}},
		{"tcp src portrange 40000-40000", [4]bool{true, false, false, true}},
	} {
		prog, err := Compile(tc.expr, 64)
		if err != nil {
			t.Errorf("%q: %v", tc.expr, err)
			continue
		}
		insns, ok := bpf.Disassemble(prog)
		if !ok {
			t.Errorf("%q: program does not disassemble", tc.expr)
		}
		vm, err := bpf.NewVM(insns)
		if err != nil {
			t.Fatalf("%q: %v", tc.expr, err)
		}
		for i, pkt := range [][]byte{tcp80, udp53, icmp, tcp6} {
			n, err := vm.Run(pkt)
			if err != nil {
				t.Fatalf("%q on packet %d: %v", tc.expr, i, err)
			}
			if (n > 0) != tc.want[i] {
				t.Errorf("%q on packet %d: kept %d bytes, want accepted=%v", tc.expr, i, n, tc.want[i])
			}
			if n > 64 {
				t.Errorf("%q on packet %d: kept %d bytes past the snap length 64", tc.expr, i, n)
			}
		}
	}
	for _, bad := range []string{"foo bar", "(", "tcp port", "tcp[13] & 2 != 0", "vlan", "host example.com",
		"portrange 9-1", "icmp port 1", "tcp and", "(tcp", "tcp)", "port 70000", "net 10.0.0.1"} {
		if _, err := Compile(bad, 64); err == nil {
			t.Errorf("%q compiled", bad)
		}
	}
}
