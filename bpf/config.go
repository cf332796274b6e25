package bpf

import (
	"fmt"
	"os"
	"path"
	"time"
)

// Config selects interfaces and sizes the capture datapath.
type Config struct {
	// Interfaces are name globs (path.Match syntax) of the interfaces to
	// capture on. Empty selects every host-side veth plus the device of the
	// default route.
	Interfaces []string
	// RingBytes is the size of the kernel ring buffer: a power of two and a
	// multiple of the page size. Zero means DefaultRingBytes.
	RingBytes int
	// WakeupBytes is how much unread data makes the program wake the reader;
	// below it the reader polls every FlushInterval. Zero means RingBytes/16.
	WakeupBytes int
	// FlushInterval bounds how long an event may sit unread. Zero means
	// DefaultFlushInterval.
	FlushInterval time.Duration
	// ConnEntries sizes the connection table that decides whether a packet
	// is a reply. Zero means DefaultConnEntries.
	ConnEntries int
	// DisableDrops turns off reporting packets the kernel drops
	// (skb:kfree_skb).
	DisableDrops bool
	// DisableRetransmissions turns off reporting TCP retransmissions
	// (tcp:tcp_retransmit_skb).
	DisableRetransmissions bool
	// DNSPorts are the TCP and UDP ports whose packets' payload goes to the
	// L7 parser (WithL7Parser; without one nothing is captured). Nil means
	// DefaultDNSPorts; an empty non-nil slice captures none.
	DNSPorts []uint16
}

// Defaults for zero Config fields.
const (
	DefaultRingBytes     = 4 << 20
	DefaultFlushInterval = 100 * time.Millisecond
	DefaultConnEntries   = 65536
)

// DefaultDNSPorts are the ports DNS is captured on when Config.DNSPorts is
// nil.
var DefaultDNSPorts = []uint16{53}

// withDefaults returns c with zero fields defaulted, or an error naming the
// first invalid field.
func (c Config) withDefaults() (Config, error) {
	for _, g := range c.Interfaces {
		if _, err := path.Match(g, ""); err != nil {
			return c, fmt.Errorf("bpf config: Interfaces: bad glob %q: %w", g, err)
		}
	}
	if c.RingBytes == 0 {
		c.RingBytes = DefaultRingBytes
	}
	page := os.Getpagesize()
	if c.RingBytes < page || c.RingBytes&(c.RingBytes-1) != 0 || c.RingBytes > 1<<30 {
		return c, fmt.Errorf("bpf config: RingBytes %d must be a power of two between the page size %d and 1 GiB", c.RingBytes, page)
	}
	if c.WakeupBytes == 0 {
		c.WakeupBytes = c.RingBytes / 16
	}
	if c.WakeupBytes < 0 || c.WakeupBytes > c.RingBytes {
		return c, fmt.Errorf("bpf config: WakeupBytes %d must be between 0 and RingBytes %d", c.WakeupBytes, c.RingBytes)
	}
	if c.FlushInterval == 0 {
		c.FlushInterval = DefaultFlushInterval
	}
	if c.FlushInterval < 0 {
		return c, fmt.Errorf("bpf config: FlushInterval %v must not be negative", c.FlushInterval)
	}
	if c.ConnEntries == 0 {
		c.ConnEntries = DefaultConnEntries
	}
	if c.ConnEntries < 0 || c.ConnEntries > 1<<24 {
		return c, fmt.Errorf("bpf config: ConnEntries %d must be between 1 and %d", c.ConnEntries, 1<<24)
	}
	if c.DNSPorts == nil {
		c.DNSPorts = DefaultDNSPorts
	}
	for _, p := range c.DNSPorts {
		if p == 0 {
			return c, fmt.Errorf("bpf config: DNSPorts: port 0 is not a port")
		}
	}
	return c, nil
}

// portBits returns ports as the capture program's bitmap: bit p%8 of byte
// p/8 is set for each port p.
func portBits(ports []uint16) [8192]byte {
	var bits [8192]byte
	for _, p := range ports {
		bits[p>>3] |= 1 << (p & 7)
	}
	return bits
}

// matches reports whether an interface name is selected by the globs.
func (c Config) matches(name string) bool {
	for _, g := range c.Interfaces {
		if ok, _ := path.Match(g, name); ok {
			return true
		}
	}
	return false
}
