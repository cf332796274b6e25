package bpf

import (
	"strings"
	"testing"
	"unsafe"
)

func TestConfigDefaults(t *testing.T) {
	c, err := Config{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.RingBytes != DefaultRingBytes || c.WakeupBytes != DefaultRingBytes/16 ||
		c.FlushInterval != DefaultFlushInterval || c.ConnEntries != DefaultConnEntries ||
		len(c.DNSPorts) != 1 || c.DNSPorts[0] != 53 {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestConfigRejects(t *testing.T) {
	for _, tc := range []struct {
		cfg   Config
		field string
	}{
		{Config{Interfaces: []string{"eth["}}, "Interfaces"},
		{Config{Interfaces: []string{"eth0=uplink"}}, "Interfaces"},
		{Config{Interfaces: []string{"=network"}}, "Interfaces"},
		{Config{RingBytes: 3 << 20}, "RingBytes"},
		{Config{RingBytes: 1024}, "RingBytes"},
		{Config{WakeupBytes: -1}, "WakeupBytes"},
		{Config{RingBytes: 1 << 16, WakeupBytes: 1 << 17}, "WakeupBytes"},
		{Config{FlushInterval: -1}, "FlushInterval"},
		{Config{ConnEntries: -5}, "ConnEntries"},
		{Config{DNSPorts: []uint16{53, 0}}, "DNSPorts"},
	} {
		_, err := tc.cfg.withDefaults()
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%+v: error %v does not name %s", tc.cfg, err, tc.field)
		}
	}
}

func TestConfigNoDNSPorts(t *testing.T) {
	c, err := Config{DNSPorts: []uint16{}}.withDefaults()
	if err != nil || len(c.DNSPorts) != 0 {
		t.Fatalf("empty DNSPorts became %v, %v", c.DNSPorts, err)
	}
}

func TestPortBits(t *testing.T) {
	bits := portBits([]uint16{53, 5353, 65535})
	for p := range 1 << 16 {
		want := p == 53 || p == 5353 || p == 65535
		if got := bits[p>>3]&(1<<(p&7)) != 0; got != want {
			t.Errorf("port %d: bit %v, want %v", p, got, want)
		}
	}
}

func TestConfigTunnelPorts(t *testing.T) {
	c, err := Config{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.tunnelPorts()
	if err != nil {
		t.Fatal(err)
	}
	want := [MaxTunnelPorts]captureTunnelPort{
		{Port: 4789, Kind: uint8(WireVXLAN)}, {Port: 8472, Kind: uint8(WireVXLAN)}, {Port: 6081, Kind: uint8(WireGeneve)},
	}
	if got != want {
		t.Errorf("default tunnel ports %v, want %v", got, want)
	}
	for _, tc := range []struct {
		cfg   Config
		field string
	}{
		{Config{VXLANPorts: []uint16{0}}, "VXLANPorts"},
		{Config{GenevePorts: []uint16{4789}}, "GenevePorts: port 4789 is already in VXLANPorts"},
		{Config{VXLANPorts: []uint16{1, 2, 3, 4, 5, 6, 7, 8}}, "GenevePorts: more than 8"},
	} {
		if _, err := tc.cfg.withDefaults(); err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%+v: error %v, want one naming %s", tc.cfg, err, tc.field)
		}
	}
	if c, err := (Config{VXLANPorts: []uint16{}, GenevePorts: []uint16{}}).withDefaults(); err != nil || len(c.VXLANPorts)+len(c.GenevePorts) != 0 {
		t.Errorf("empty tunnel ports became %v %v, %v", c.VXLANPorts, c.GenevePorts, err)
	}
}

// The capture program checks exactly MaxTunnelPorts ports.
func TestMaxTunnelPortsMatchesProgram(t *testing.T) {
	spec, err := loadCapture()
	if err != nil {
		t.Fatal(err)
	}
	v := spec.Variables[captureVarTunnelPorts]
	if want := uint32(MaxTunnelPorts) * uint32(unsafe.Sizeof(captureTunnelPort{})); v.Size() != want {
		t.Errorf("tunnel_ports is %d bytes, want %d (MaxTunnelPorts %d)", v.Size(), want, MaxTunnelPorts)
	}
}
