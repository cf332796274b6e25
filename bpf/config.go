package bpf

import (
	"fmt"
	"os"
	"time"
)

// Config selects interfaces and sizes the capture datapath.
type Config struct {
	// Interfaces are name globs (path.Match syntax) of the interfaces to
	// capture on, each optionally followed by "=endpoint", "=network" or
	// "=overlay" to fix the role of the interfaces it selects (else
	// decided from what they are; see classify). The first matching entry
	// applies. Empty selects every pod veth, every tunnel device and the
	// default-route device.
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
	// HTTPRate is how many TCP segments starting an HTTP/1.x message (or
	// the HTTP/2 preface) each CPU sends to the L7 parser per second, as
	// DNS packets are sent; the rest are counted in
	// fovea_bpf_http_snippets_refused_total. Zero sends none.
	HTTPRate uint32
	// VXLANPorts and GenevePorts are the UDP destination ports whose
	// packets are decapsulated and reported as their inner packet, with
	// the outer headers as its tunnel (together at most MaxTunnelPorts).
	// Nil means DefaultVXLANPorts and DefaultGenevePorts; an empty
	// non-nil slice decapsulates none. IP-in-IP is always decapsulated.
	VXLANPorts, GenevePorts []uint16
	// Aggregation selects what the capture program reports: per
	// connection (the zero value) or every packet.
	Aggregation Aggregation
	// AggregationInterval is how long a connection's packets are counted
	// before a packet brings a periodic report. Zero means
	// DefaultAggregationInterval.
	AggregationInterval time.Duration
	// SampleRate, above 1, also reports every SampleRate-th packet
	// aggregation would count silently (each report carrying the packets
	// since the last). 0 and 1 report none of them.
	SampleRate uint32
	// ReportUnspecifiedDrops reports packets the kernel frees with
	// SKB_DROP_REASON_NOT_SPECIFIED as drops. Many kernel paths free
	// packets with that reason after no failure (IPv6 multicast no one on
	// the node listens to), so by default they are only counted, in
	// fovea_drops_unreported_packets_total.
	ReportUnspecifiedDrops bool

	selectors []selector // Interfaces parsed, by withDefaults
}

// Aggregation is what the capture program reports of a connection.
type Aggregation uint8

const (
	// AggregationConnection reports, per connection, interface and
	// direction, the first packet, each TCP flag not yet seen, FIN and RST,
	// and a packet once AggregationInterval has passed since the last
	// report; each report counts the packets and bytes since the last.
	AggregationConnection Aggregation = iota
	// AggregationNone reports every packet (for debugging).
	AggregationNone
)

func (a Aggregation) String() string {
	switch a {
	case AggregationConnection:
		return "connection"
	case AggregationNone:
		return "none"
	}
	return fmt.Sprintf("aggregation(%d)", uint8(a))
}

// ParseAggregation parses an Aggregation's String form.
func ParseAggregation(s string) (Aggregation, error) {
	for _, a := range []Aggregation{AggregationConnection, AggregationNone} {
		if s == a.String() {
			return a, nil
		}
	}
	return 0, fmt.Errorf("parse aggregation %q: want connection or none", s)
}

// Defaults for zero Config fields.
const (
	DefaultRingBytes     = 4 << 20
	DefaultFlushInterval = 100 * time.Millisecond
	DefaultConnEntries   = 65536
	// DefaultAggregationInterval is how often a busy connection is
	// reported.
	DefaultAggregationInterval = 30 * time.Second
)

// DefaultDNSPorts are the ports DNS is captured on when Config.DNSPorts is
// nil.
var DefaultDNSPorts = []uint16{53}

// DefaultVXLANPorts are IANA's VXLAN port and the Linux kernel's default,
// which flannel and Cilium use; DefaultGenevePorts is IANA's Geneve port
// (Antrea, OVN-Kubernetes, Cilium in Geneve mode).
var (
	DefaultVXLANPorts  = []uint16{4789, 8472}
	DefaultGenevePorts = []uint16{6081}
)

// MaxTunnelPorts is how many VXLAN and Geneve ports the capture program
// checks (MAX_TUNNEL_PORTS in c/capture.h, which a test compares): each
// costs every UDP packet a comparison.
const MaxTunnelPorts = 8

// withDefaults returns c with zero fields defaulted, or an error naming the
// first invalid field.
func (c Config) withDefaults() (Config, error) {
	var err error
	if c.selectors, err = parseSelectors(c.Interfaces); err != nil {
		return c, fmt.Errorf("bpf config: Interfaces: %w", err)
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
	switch c.Aggregation {
	case AggregationConnection:
	case AggregationNone:
		if c.SampleRate > 1 {
			return c, fmt.Errorf("bpf config: SampleRate %d needs Aggregation connection (none reports every packet)", c.SampleRate)
		}
	default:
		return c, fmt.Errorf("bpf config: Aggregation %d is neither connection nor none", c.Aggregation)
	}
	if c.AggregationInterval == 0 {
		c.AggregationInterval = DefaultAggregationInterval
	}
	if c.AggregationInterval < 0 {
		return c, fmt.Errorf("bpf config: AggregationInterval %v must not be negative", c.AggregationInterval)
	}
	if c.DNSPorts == nil {
		c.DNSPorts = DefaultDNSPorts
	}
	for _, p := range c.DNSPorts {
		if p == 0 {
			return c, fmt.Errorf("bpf config: DNSPorts: port 0 is not a port")
		}
	}
	if c.VXLANPorts == nil {
		c.VXLANPorts = DefaultVXLANPorts
	}
	if c.GenevePorts == nil {
		c.GenevePorts = DefaultGenevePorts
	}
	if err := ValidateTunnelPorts(c.VXLANPorts, c.GenevePorts); err != nil {
		return c, err
	}
	return c, nil
}

// ValidateTunnelPorts reports the first reason Config.VXLANPorts and
// Config.GenevePorts cannot be used together, naming the field.
func ValidateTunnelPorts(vxlan, geneve []uint16) error {
	_, err := tunnelPorts(vxlan, geneve)
	return err
}

// tunnelPorts returns the VXLAN and Geneve ports as the capture program's
// tunnel_ports, or an error naming the field at fault.
func (c Config) tunnelPorts() ([MaxTunnelPorts]captureTunnelPort, error) {
	return tunnelPorts(c.VXLANPorts, c.GenevePorts)
}

func tunnelPorts(vxlan, geneve []uint16) ([MaxTunnelPorts]captureTunnelPort, error) {
	var out [MaxTunnelPorts]captureTunnelPort
	n := 0
	seen := make(map[uint16]string)
	for _, set := range []struct {
		field string
		ports []uint16
		kind  WireKind
	}{{"VXLANPorts", vxlan, WireVXLAN}, {"GenevePorts", geneve, WireGeneve}} {
		for _, p := range set.ports {
			if p == 0 {
				return out, fmt.Errorf("bpf config: %s: port 0 is not a port", set.field)
			}
			if other, dup := seen[p]; dup {
				return out, fmt.Errorf("bpf config: %s: port %d is already in %s", set.field, p, other)
			}
			if n == MaxTunnelPorts {
				return out, fmt.Errorf("bpf config: %s: more than %d VXLAN and Geneve ports in all", set.field, MaxTunnelPorts)
			}
			seen[p] = set.field
			out[n] = captureTunnelPort{Port: p, Kind: uint8(set.kind)}
			n++
		}
	}
	return out, nil
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
