// Package pcapfilter compiles tcpdump's pcap-filter expressions over
// Ethernet frames into classic BPF, the program an AF_PACKET socket runs in
// the kernel, in pure Go: libpcap's compiler, through cgo, would make the
// agent depend on a shared library, and the one pure-Go compiler published
// as a module (github.com/packetcap/go-pcap/filter) compiles "not icmp" to
// a program that rejects everything and "ip6 and tcp" to one that jumps
// past its end.
//
// It takes the part of the language captures of pod traffic use:
//
//	primitives  ip, ip6, arp, tcp, udp, sctp, icmp, icmp6
//	            [src|dst] host ADDR, [src|dst] net PREFIX (a.b.c.d/n or an IPv6 prefix)
//	            [src|dst] port N, [src|dst] portrange N-M
//	            each optionally after a protocol: tcp port 80, ip6 host fd00::1, udp dst portrange 1-1024
//	operators   not / !, and / &&, or / ||, parentheses; a bare address means host ADDR
//
// As in libpcap, port primitives match TCP, UDP and SCTP unless a protocol
// is named, IPv4 fragments after the first never match a port, IPv6
// extension headers are not walked, and "and" binds tighter than "or".
// Anything else (byte offsets such as tcp[13], VLAN, names to resolve) is
// an error naming the word it stopped at.
package pcapfilter
