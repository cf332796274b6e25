// Package packet parses an Ethernet frame or an IP packet into the L3 and
// L4 fields a record holds: addresses, protocol, ports, TCP flags, ICMP type
// and code.
//
// It is the Go statement of what the Linux capture program (bpf/c) parses
// in the kernel: the same VLAN tag, IPv4 options and fragments, IPv6
// extension headers (at most six walked) and the same rule that a packet
// whose L4 header is absent or truncated is reported at L3 only. Sources
// that receive whole frames in user space (the Windows PktMon source) parse
// them here, and the Linux program's tests check that both parsers agree
// frame by frame. Fill writes the fields into a record for every source.
package packet
