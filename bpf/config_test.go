package bpf

import (
	"strings"
	"testing"
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
