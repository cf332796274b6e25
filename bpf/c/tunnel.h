/* The tunnel headers both programs see through: capture.c on the wire,
 * trace.c in packets the kernel drops. Each reads the packet its own way
 * (direct access or bpf_skb_load_bytes; bpf_probe_read_kernel) and hands
 * the bytes to these. */
#pragma once

#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
/* Transparent Ethernet bridging: Geneve's protocol type for an Ethernet
 * frame inside, and what udp_tunnel reports for VXLAN's. */
#define ETH_P_TEB 0x6558

#define IPPROTO_IPIP 4
#define IPPROTO_UDP 17
#define IPPROTO_IPV6 41

#define UDP_HLEN 8
#define VXLAN_HLEN 8
#define VXLAN_FLAG_VNI 0x08
#define GENEVE_HLEN 8
/* What udp_tunnel reads: the UDP header and a VXLAN or Geneve header. */
#define UDP_TUNNEL_HLEN (UDP_HLEN + GENEVE_HLEN)

/* UDP destination ports whose packets are decapsulated, set at load time. */
volatile const struct tunnel_port tunnel_ports[MAX_TUNNEL_PORTS] = {};

static __always_inline __u8 tunnel_port(__u16 port)
{
#pragma unroll
	for (int i = 0; i < MAX_TUNNEL_PORTS; i++) {
		if (!tunnel_ports[i].port)
			return 0;
		if (tunnel_ports[i].port == port)
			return tunnel_ports[i].kind;
	}
	return 0;
}

/* For an IP payload of protocol proto at l4off: when it is IP itself,
 * fills tun and returns the inner header's offset, with its EtherType in
 * *inner_proto; else returns 0. */
static __always_inline __u32 ipip_tunnel(__u8 proto, __u32 l4off, struct wire *tun, __u16 *inner_proto)
{
	if (proto != IPPROTO_IPIP && proto != IPPROTO_IPV6)
		return 0;
	__builtin_memset(tun, 0, sizeof(*tun));
	tun->kind = WIRE_IPIP;
	*inner_proto = proto == IPPROTO_IPIP ? ETH_P_IP : ETH_P_IPV6;
	return l4off;
}

/* For a UDP header at l4off whose first UDP_TUNNEL_HLEN bytes are h, sent
 * to a port of the given kind (tunnel_port of its destination port, which
 * the caller has looked up already): on a VXLAN or Geneve header fills
 * tun's protocol, ports and VNI and returns the offset of what the tunnel
 * carries, with its EtherType in *inner_proto (ETH_P_TEB for an Ethernet
 * frame); else returns 0. */
static __always_inline __u32 udp_tunnel(const __u8 *h, __u32 l4off, __u8 kind, struct wire *tun, __u16 *inner_proto)
{
	const __u8 *t = &h[UDP_HLEN];
	__u32 off;

	if (kind == WIRE_VXLAN) {
		if (!(t[0] & VXLAN_FLAG_VNI))
			return 0;
		off = l4off + UDP_HLEN + VXLAN_HLEN;
		*inner_proto = ETH_P_TEB;
	} else if (kind == WIRE_GENEVE) {
		if (t[0] >> 6) /* version 0 only */
			return 0;
		off = l4off + UDP_HLEN + GENEVE_HLEN + (t[0] & 0x3f) * 4;
		*inner_proto = (__u16)t[2] << 8 | t[3];
	} else {
		return 0;
	}
	__builtin_memset(tun, 0, sizeof(*tun));
	tun->kind = kind;
	tun->sport = (__u16)h[0] << 8 | h[1];
	tun->dport = (__u16)h[2] << 8 | h[3];
	tun->vni = (__u32)t[4] << 16 | (__u32)t[5] << 8 | t[6];
	return off;
}

/* Moves ev's addresses, the outer header's, into tun: ev is about to
 * describe the inner packet. */
static __always_inline void tunnel_outer(struct event *ev, struct wire *tun)
{
	tun->family = ev->family;
	__builtin_memcpy(tun->saddr, ev->saddr, 16);
	__builtin_memcpy(tun->daddr, ev->daddr, 16);
	/* An inner IPv4 header fills only the first 4 bytes. */
	__builtin_memset(ev->saddr, 0, 16);
	__builtin_memset(ev->daddr, 0, 16);
}
