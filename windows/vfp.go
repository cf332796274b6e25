package windows

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// VFPDirCounters are a VFP port's counters in one direction.
type VFPDirCounters struct {
	SYN, SYNACK, FIN, RST uint64 // TCP packets with these flags

	Verified, TimedOut, Reset, ResetSYN, ClosedFIN, HalfOpenTimeouts, TimeWaitExpired uint64 // TCP connections

	ACLDrops uint64 // packets dropped by ACL rules
}

// VFPPortCounters are a VFP port's counters: In is towards the port's
// endpoint (ingress), Out from it (egress).
type VFPPortCounters struct {
	In, Out VFPDirCounters
}

// vfpCounterFields maps vfpctrl's counter names, spaces removed, to fields.
var vfpCounterFields = map[string]func(*VFPDirCounters) *uint64{
	"SYNpackets":                      func(c *VFPDirCounters) *uint64 { return &c.SYN },
	"SYN-ACKpackets":                  func(c *VFPDirCounters) *uint64 { return &c.SYNACK },
	"FINpackets":                      func(c *VFPDirCounters) *uint64 { return &c.FIN },
	"RSTpackets":                      func(c *VFPDirCounters) *uint64 { return &c.RST },
	"TCPConnectionsVerified":          func(c *VFPDirCounters) *uint64 { return &c.Verified },
	"TCPConnectionsTimedOut":          func(c *VFPDirCounters) *uint64 { return &c.TimedOut },
	"TCPConnectionsReset":             func(c *VFPDirCounters) *uint64 { return &c.Reset },
	"TCPConnectionsResetbySYN":        func(c *VFPDirCounters) *uint64 { return &c.ResetSYN },
	"TCPConnectionsClosedbyFIN":       func(c *VFPDirCounters) *uint64 { return &c.ClosedFIN },
	"TCPHalfOpenTimeouts":             func(c *VFPDirCounters) *uint64 { return &c.HalfOpenTimeouts },
	"TCPConnectionsExpiredtoTimeWait": func(c *VFPDirCounters) *uint64 { return &c.TimeWaitExpired },
	"DroppedACLpackets":               func(c *VFPDirCounters) *uint64 { return &c.ACLDrops },
}

// ParseVFPPortCounters parses `vfpctrl /port <guid> /get-port-counter`
// output: "Direction - OUT" and "Direction - IN" sections of
// "name : value" lines. Counters it does not know are skipped; a known
// counter whose value is not a number is an error.
func ParseVFPPortCounters(out string) (VFPPortCounters, error) {
	var pc VFPPortCounters
	var dir *VFPDirCounters
	for line := range strings.Lines(out) {
		name, value, ok := strings.Cut(strings.ReplaceAll(strings.TrimSpace(line), " ", ""), ":")
		switch {
		case name == "Direction-OUT":
			dir = &pc.Out
			continue
		case name == "Direction-IN":
			dir = &pc.In
			continue
		case !ok || dir == nil:
			continue
		}
		field, known := vfpCounterFields[name]
		if !known {
			continue
		}
		n, err := strconv.ParseUint(value, 10, 64)
		if err != nil {
			return VFPPortCounters{}, fmt.Errorf("parse VFP port counters: %q: %w", strings.TrimSpace(line), err)
		}
		*field(dir) = n
	}
	if dir == nil {
		return VFPPortCounters{}, fmt.Errorf("parse VFP port counters: no Direction section in %d bytes", len(out))
	}
	return pc, nil
}

// ParseVFPPortList parses `vfpctrl /list-vmswitch-port` output: blocks of
// "name : value" lines, one per port. It returns each port's name (the
// GUID /port takes) by its MAC address, normalised as net.HardwareAddr
// prints it; ports without both are skipped.
func ParseVFPPortList(out string) map[string]string {
	ports := map[string]string{}
	var name, mac string
	flush := func() {
		if name != "" && mac != "" {
			ports[mac] = name
		}
		name, mac = "", ""
	}
	for line := range strings.Lines(out) {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			if strings.TrimSpace(line) == "" {
				flush()
			}
			continue
		}
		switch strings.ReplaceAll(strings.TrimSpace(k), " ", "") {
		case "Portname":
			name = strings.TrimSpace(v)
		case "MACaddress":
			if hw, err := net.ParseMAC(strings.TrimSpace(v)); err == nil {
				mac = hw.String()
			}
		}
	}
	flush()
	return ports
}
