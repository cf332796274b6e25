// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Packet capture for tc/tcx: count each packet per interface, parse its
 * headers, and report it — or, aggregating, only its connection's news and a
 * periodic count (aggregate.h; UDP counted per CPU first, aggslot.h) —
 * as a fixed-size event in a ring buffer, classified against a small
 * connection table. Never changes packet fate:
 * TCX_NEXT and TC_ACT_UNSPEC are both -1. */

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "capture.h"
#include "ring.h"
#include "conntrack.h"
#include "aggregate.h"
#include "counters.h"
#include "tunnel.h"
#include "snat.h"
#include "aggslot.h"

#define PASS -1

#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88A8

#define IPPROTO_HOPOPTS 0
#define IPPROTO_ICMP 1
#define IPPROTO_TCP 6
#define IPPROTO_ROUTING 43
#define IPPROTO_FRAGMENT 44
#define IPPROTO_AH 51
#define IPPROTO_ICMPV6 58
#define IPPROTO_DSTOPTS 60
#define IPPROTO_SCTP 132

#define ICMP_ECHOREPLY 0
#define ICMP_ECHO 8
#define ICMPV6_ECHO_REQUEST 128
#define ICMPV6_ECHO_REPLY 129

/* A buffer load() copies headers into: word-aligned, so copies are word
 * copies. */
#define HDR_ALIGNED __attribute__((aligned(8)))

/* Start of Linux's default ephemeral port range. */
#define EPHEMERAL_PORT_MIN 32768

/* IPv6 extension headers walked before giving up on finding L4. */
#define MAX_EXT_HDRS 6


/* Ports whose TCP and UDP packets also carry their first L4 payload bytes
 * (EV_SNIPPET), one bit per port, set at load time. Reading it costs a
 * load per port, so packets on other ports pay almost nothing. */
volatile const __u8 snippet_ports[8192] = {};

/* Never read: names struct wire_event in the object's BTF, for bpf2go's
 * -type, since the programs only build it on the stack. */
const struct wire_event *wire_event_btf __attribute__((unused));

/* A snippet event is built here: it is too large for the stack. */
struct snippet {
	struct event ev;
	__u32 seq; /* TCP: the sequence number of the payload's first byte */
	__u32 ack; /* TCP: the acknowledgment number */
	__u32 len; /* the whole L4 payload's length, of which payload holds
		    * the first SNIPPET_MAX bytes at most */
	__u32 _pad;
	__u8 payload[SNIPPET_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct snippet);
} snippet_buf SEC(".maps");

/* What a packet says about who initiated its connection. */
enum hint {
	HINT_NONE = 0,  /* nothing: the first packet seen is the initiator's */
	HINT_SRC,       /* the sender initiated (SYN without ACK, echo request) */
	HINT_DST,       /* the receiver initiated (SYN-ACK, echo reply) */
	HINT_UNTRACKED, /* no connection to track (ICMP other than echo) */
};

/* Copies len bytes at off into to: straight from the packet when they lie
 * in its linear part, which is the common case and saves a helper call,
 * else through bpf_skb_load_bytes, which also reads paged data. */
static __always_inline int load(struct __sk_buff *skb, __u32 off, void *to, const __u32 len)
{
	/* Opaque to the compiler, so that it reads data and data_end at their
	 * offsets in the context rather than through a context pointer it
	 * computed, which the verifier refuses. */
	asm volatile("" : "+r"(skb));
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;

	/* The bound keeps the verifier's view of off finite. The barrier
	 * makes the compiler test the very register it adds: it otherwise
	 * may test off before an increment and add the incremented copy,
	 * whose bounds the verifier cannot connect to the test. */
	asm volatile("" : "+r"(off));
	if (off < 0x1000 && data + off + len <= end) {
		/* Headers sit at any offset, but the JIT's word loads need no
		 * alignment on the architectures Kubernetes nodes run (the
		 * verifier enforces it only where they would), and word
		 * loads into an aligned buffer cost a fraction of byte ones. */
		__builtin_memcpy(to, __builtin_assume_aligned(data + off, 8), len);
		return 0;
	}
	return bpf_skb_load_bytes(skb, off, to, len);
}

/* Classifies ev against its connection, adding the connection if new. A
 * TCP SYN (HINT_SRC) stores when it was seen; a SYN-ACK (HINT_DST) answering
 * it gets the time since in ev->handshake_us. Both read the report's clock
 * here, so a handshake's latency is the difference of its two reports'
 * times, and costs no clock read of its own. */
static __always_inline void classify(struct event *ev, enum hint hint, const struct ct_key *key, int src_is_a)
{
	__u8 src_init = hint != HINT_DST;
	__u8 initiator_is_a;
	int handshake = ev->proto == IPPROTO_TCP && hint != HINT_NONE;
	__u32 now_us = 0;

	if (handshake) {
		ev->ktime = bpf_ktime_get_boot_ns();
		now_us = (__u32)(ev->ktime / 1000);
		if (hint == HINT_DST)
			ev->handshake_us = 0;
	}

	struct ct_val *val = bpf_map_lookup_elem(&conntrack, key);
	if (!val) {
		/* Joining a connection midway, a packet from a lower port to an
		 * ephemeral one most likely comes from the server. */
		if (hint == HINT_NONE && ev->sport < ev->dport && ev->dport >= EPHEMERAL_PORT_MIN)
			src_init = 0;
		__u8 want_a = src_init ? src_is_a : !src_is_a;
		struct ct_val nv = {
			.initiator_is_a = want_a,
			.definitive = hint != HINT_NONE,
			.syn_seen = handshake && hint == HINT_SRC,
			.syn_us = now_us,
		};
		bpf_map_update_elem(&conntrack, key, &nv, BPF_ANY);
		initiator_is_a = want_a;
	} else {
		/* A SYN-ACK from the end the SYN went to; a SYN makes its
		 * sender the initiator, so no guess is corrected then. */
		if (handshake && hint == HINT_DST && val->syn_seen && (__u8)src_is_a != val->initiator_is_a) {
			__u32 us = now_us - val->syn_us;
			ev->handshake_us = us ? us : 1;
		}
		/* A new SYN or echo request restarts the connection (port reuse);
		 * a SYN-ACK or echo reply only corrects a guess. */
		if (hint == HINT_SRC || (hint == HINT_DST && !val->definitive)) {
			val->initiator_is_a = src_init ? src_is_a : !src_is_a;
			val->definitive = 1;
		}
		if (handshake && hint == HINT_SRC) {
			val->syn_us = now_us;
			val->syn_seen = 1;
		}
		initiator_is_a = val->initiator_is_a;
	}

	ev->flags |= EV_REPLY_KNOWN;
	if ((__u8)src_is_a != initiator_is_a)
		ev->flags |= EV_REPLY;
}

/* Echo request/reply pairs are tracked by identifier; other ICMP has no
 * connection of its own. */
static __always_inline int icmp_hint(struct event *ev, __u16 echo_id)
{
	__u8 req = ev->proto == IPPROTO_ICMP ? ICMP_ECHO : ICMPV6_ECHO_REQUEST;
	__u8 rep = ev->proto == IPPROTO_ICMP ? ICMP_ECHOREPLY : ICMPV6_ECHO_REPLY;

	if (ev->icmp_type != req && ev->icmp_type != rep)
		return HINT_UNTRACKED;
	/* Both ends carry the identifier so sessions stay apart while the
	 * ends still order by address alone. */
	ev->sport = echo_id;
	ev->dport = echo_id;
	return ev->icmp_type == req ? HINT_SRC : HINT_DST;
}

/* Parses L4 at off into ev. Returns the connection hint (HINT_UNTRACKED
 * for packets outside any connection), or -1 when the packet has no usable
 * L4 header. */
static __always_inline int parse_l4(struct __sk_buff *skb, __u32 off, struct event *ev)
{
	__u8 b[14] HDR_ALIGNED;

	switch (ev->proto) {
	case IPPROTO_TCP:
		if (load(skb, off, b, 14))
			return -1;
		if ((b[12] >> 4) < 5) /* data offset below the fixed header */
			return -1;
		ev->sport = ((__u16)b[0] << 8) | b[1];
		ev->dport = ((__u16)b[2] << 8) | b[3];
		ev->tcp_flags = b[13] | ((__u16)(b[12] & 1) << 8);
		if ((b[13] & 0x02) && !(b[13] & 0x10))
			return HINT_SRC;
		if ((b[13] & 0x02) && (b[13] & 0x10))
			return HINT_DST;
		return HINT_NONE;
	case IPPROTO_UDP:
	case IPPROTO_SCTP:
		if (load(skb, off, b, 4))
			return -1;
		ev->sport = ((__u16)b[0] << 8) | b[1];
		ev->dport = ((__u16)b[2] << 8) | b[3];
		return HINT_NONE;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (load(skb, off, b, 8))
			return -1;
		ev->icmp_type = b[0];
		ev->icmp_code = b[1];
		return icmp_hint(ev, (__u16)b[4] << 8 | b[5]);
	}
	return -1;
}

static __always_inline int parse_ipv4(struct __sk_buff *skb, __u32 off, struct event *ev, __u32 *l4off)
{
	__u8 h[20] HDR_ALIGNED;

	if (load(skb, off, h, 20))
		return -1;
	if ((h[0] >> 4) != 4 || (h[0] & 0xf) < 5)
		return -1;
	ev->family = EV_FAMILY_IPV4;
	ev->proto = h[9];
	__builtin_memcpy(ev->saddr, &h[12], 4);
	__builtin_memcpy(ev->daddr, &h[16], 4);
	*l4off = off + (h[0] & 0xf) * 4;
	/* Only the first fragment carries the L4 header. */
	if (((h[6] & 0x1f) << 8 | h[7]) != 0)
		return 1;
	return 0;
}

static __always_inline int parse_ipv6(struct __sk_buff *skb, __u32 off, struct event *ev, __u32 *l4off)
{
	__u8 h[40] HDR_ALIGNED;

	if (load(skb, off, h, 40))
		return -1;
	if ((h[0] >> 4) != 6)
		return -1;
	ev->family = EV_FAMILY_IPV6;
	__builtin_memcpy(ev->saddr, &h[8], 16);
	__builtin_memcpy(ev->daddr, &h[24], 16);

	__u8 nh = h[6];
	off += 40;
#pragma unroll
	for (int i = 0; i < MAX_EXT_HDRS; i++) {
		__u8 x[4] HDR_ALIGNED;

		switch (nh) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if (load(skb, off, x, 2))
				goto l3;
			nh = x[0];
			off += ((__u32)x[1] + 1) * 8;
			break;
		case IPPROTO_AH:
			if (load(skb, off, x, 2))
				goto l3;
			nh = x[0];
			off += ((__u32)x[1] + 2) * 4;
			break;
		case IPPROTO_FRAGMENT:
			if (load(skb, off, x, 4))
				goto l3;
			nh = x[0];
			off += 8;
			if ((((__u16)x[2] << 8 | x[3]) & 0xfff8) != 0) {
				ev->proto = nh;
				return 1;
			}
			break;
		default:
			ev->proto = nh;
			*l4off = off;
			return 0;
		}
	}
l3:
	/* Too many or truncated extension headers: report L3 only. */
	ev->proto = nh;
	return 1;
}

/* Finds the inner packet of a tunnel: ev holds the outer IP header just
 * parsed, whose payload starts at l4off; for UDP, tun->kind holds the kind
 * of its destination port. On a tunnel it moves the outer
 * addresses into tun, stores the inner EtherType in *inner_proto and
 * returns the offset of the inner IP header; it returns 0 for a packet that
 * is no tunnel, and -1 for a tunnel that carries no IP (ARP between VTEPs):
 * such packets are the overlay's own business, not a flow. */
static __always_inline int decap(struct __sk_buff *skb, struct event *ev, __u32 l4off, struct wire *tun, __u16 *inner_proto)
{
	__u32 off;

	if (ev->proto == IPPROTO_UDP) {
		__u8 h[UDP_TUNNEL_HLEN] HDR_ALIGNED;

		if (load(skb, l4off, h, sizeof(h)))
			return 0;
		off = udp_tunnel(h, l4off, tun->kind, tun, inner_proto);
	} else {
		off = ipip_tunnel(ev->proto, l4off, tun, inner_proto);
	}
	if (!off)
		return 0;
	if (*inner_proto == ETH_P_TEB) {
		__u8 et[2] HDR_ALIGNED;

		if (load(skb, off + 12, et, 2))
			return -1;
		*inner_proto = (__u16)et[0] << 8 | et[1];
		off += ETH_HLEN;
	}
	if (*inner_proto != ETH_P_IP && *inner_proto != ETH_P_IPV6)
		return -1;
	tunnel_outer(ev, tun);
	ev->flags |= EV_WIRE;
	return off;
}

#include "http.h"

static __always_inline int snippet_port(__u16 port)
{
	return snippet_ports[port >> 3] & (1 << (port & 7));
}

/* Reports ev followed by up to SNIPPET_MAX bytes of the L4 payload of the
 * packet whose L4 header is at l4off. Returns -1, reporting nothing, when
 * the packet carries no payload, so the caller reports ev alone. */
static __always_inline int output_snippet(struct __sk_buff *skb, const struct event *ev, __u32 l4off)
{
	__u32 off = l4off + 8; /* UDP header */
	__u32 seq = 0, ack = 0;
	if (ev->proto == IPPROTO_TCP) {
		/* Sequence number, acknowledgment number, data offset. */
		__u8 h[9] HDR_ALIGNED;
		if (load(skb, l4off + 4, h, sizeof(h)))
			return -1;
		seq = (__u32)h[0] << 24 | (__u32)h[1] << 16 | (__u32)h[2] << 8 | h[3];
		ack = (__u32)h[4] << 24 | (__u32)h[5] << 16 | (__u32)h[6] << 8 | h[7];
		off = l4off + (h[8] >> 4) * 4;
	}
	if (off >= skb->len)
		return -1;
	__u32 n = skb->len - off;
	if (n > SNIPPET_MAX)
		n = SNIPPET_MAX;
	/* n - 1 masked, a no-op the compiler cannot fold away, so that the
	 * verifier sees the length bounded to [1, SNIPPET_MAX]. */
	_Static_assert((SNIPPET_MAX & (SNIPPET_MAX - 1)) == 0, "SNIPPET_MAX must be a power of two");
	__u32 last = n - 1;
	asm volatile("%[last] &= %[mask]" : [last] "+r"(last) : [mask] "i"(SNIPPET_MAX - 1));
	n = last + 1;

	__u32 zero = 0;
	struct snippet *s = bpf_map_lookup_elem(&snippet_buf, &zero);
	if (!s)
		return -1;
	if (bpf_skb_load_bytes(skb, off, s->payload, n))
		return -1;
	__builtin_memcpy(&s->ev, ev, sizeof(*ev));
	s->ev.flags |= EV_SNIPPET;
	s->seq = seq;
	s->ack = ack;
	s->len = skb->len - off;
	ring_output(s, offsetof(struct snippet, payload) + n);
	return 0;
}

static __always_inline int parse_ip(struct __sk_buff *skb, __u16 proto, __u32 off, struct event *ev, __u32 *l4off)
{
	if (proto == ETH_P_IP)
		return parse_ipv4(skb, off, ev, l4off);
	if (proto == ETH_P_IPV6)
		return parse_ipv6(skb, off, ev, l4off);
	return -1;
}

/* Decapsulates a tunnel (see decap) and parses its inner IP header into ev.
 * A global function, so the verifier checks it once on its own instead of
 * once per path through the outer headers, which would exceed its budget.
 * Returns 0 for no tunnel (ev untouched), 1 when the inner L4 header is at
 * *inner_l4off, 2 for an inner packet with L3 only, -1 for a packet not to
 * report. */
__noinline int parse_tunnel(struct __sk_buff *skb, struct event *ev, struct wire *tun, __u32 l4off, __u32 *inner_l4off)
{
	__u16 inner_proto = 0;

	if (!ev || !tun || !inner_l4off)
		return -1;
	__u8 outer_proto = ev->proto;
	int inner = decap(skb, ev, l4off, tun, &inner_proto);
	if (inner <= 0)
		return inner;
	int l3only = parse_ip(skb, inner_proto, inner, ev, inner_l4off);
	if (l3only >= 0)
		return 1 + l3only;
	/* No valid IP header inside: report the packet as it is on the
	 * wire rather than lose it. */
	__builtin_memcpy(ev->saddr, tun->saddr, 16);
	__builtin_memcpy(ev->daddr, tun->daddr, 16);
	ev->family = tun->family;
	ev->proto = outer_proto;
	ev->flags &= ~EV_WIRE;
	return 0;
}

/* Returns the kind of tunnel (WIRE_*) whose port the UDP packet whose
 * header is at l4off goes to, 0 for none, before paying for parse_tunnel's
 * call. */
static __always_inline __u8 to_tunnel_port(struct __sk_buff *skb, __u32 l4off)
{
	__u8 p[2] HDR_ALIGNED;

	if (load(skb, l4off + 2, p, 2))
		return 0;
	return tunnel_port((__u16)p[0] << 8 | p[1]);
}

/* l3 is set for devices without a link-layer header (TUN, WireGuard,
 * IP-in-IP): the packet starts with its IP header, whose version
 * skb->protocol gives. */
static __always_inline void capture(struct __sk_buff *skb, __u8 dir, int l3)
{
	/* The tunnel part is written only when decap finds one. */
	struct wire_event we;
	struct event *ev = &we.ev;
	__u32 off = ETH_HLEN;
	__u16 proto;
	__u8 eth[4] HDR_ALIGNED;

	__u32 ifindex = skb->ifindex;
	/* Read once: the slot and the parse below both need it. */
	__u16 l3proto = l3 ? bpf_ntohs(skb->protocol) : 0;
	count_forward(ifindex, dir, skb->len);

	/* Sampling counts each absorbed packet in the shared entry. */
	struct agg_slot *slot = 0;
	__u64 carry = 0;
	if (aggregation == AGG_CONNECTION && sample_rate <= 1 &&
	    agg_slot_count(skb, ifindex, dir, l3, l3proto, &slot, &carry))
		return;

	__builtin_memset(ev, 0, sizeof(*ev));
	if (l3) {
		proto = l3proto;
		off = 0;
	} else {
		/* EtherType and, if tagged, the inner EtherType of one VLAN
		 * tag. */
		if (load(skb, 12, eth, 2))
			return;
		proto = (__u16)eth[0] << 8 | eth[1];
		if (proto == ETH_P_8021Q || proto == ETH_P_8021AD) {
			if (load(skb, 16, eth, 2))
				return;
			proto = (__u16)eth[0] << 8 | eth[1];
			off += 4;
		}
	}

	__u32 l4off = 0;
	int l3only = parse_ip(skb, proto, off, ev, &l4off);
	if (l3only < 0)
		return;
	/* A tunnelled packet is its inner packet, with the outer headers
	 * beside it: the node-to-node envelope is no flow. */
	int tunnelled = 0;
	if (!l3only) {
		/* The port's kind travels to udp_tunnel in the wire part,
		 * so the port lists are searched once. */
		if (ev->proto == IPPROTO_UDP)
			tunnelled = we.wire.kind = to_tunnel_port(skb, l4off);
		else
			tunnelled = ev->proto == IPPROTO_IPIP || ev->proto == IPPROTO_IPV6;
	}
	if (tunnelled) {
		int t = parse_tunnel(skb, ev, &we.wire, l4off, &l4off);
		if (t < 0)
			return;
		if (t > 0)
			l3only = t - 1;
	}

	/* The interval check needs only the coarse clock, the last tick's
	 * time: a helper call, but no clock-source read. A report's own time
	 * is read precisely below. */
	__u64 now = aggregation == AGG_CONNECTION ? bpf_ktime_get_coarse_ns() : 0;
	ev->ifindex = ifindex;
	ev->len = skb->len;
	ev->dir = dir;
	ev->packets = 1;

	int snip = 0;
	if (!l3only) {
		int hint = parse_l4(skb, l4off, ev);
		if (hint >= 0) {
			ev->flags |= EV_L4;
			/* A tunnelled copy's payload was parsed where the pod
			 * sent or received it. */
			snip = !(ev->flags & EV_WIRE) &&
			       (((ev->proto == IPPROTO_UDP || ev->proto == IPPROTO_TCP) &&
				 (snippet_port(ev->sport) || snippet_port(ev->dport))) ||
				http_head(skb, ev, l4off));
			if (hint != HINT_UNTRACKED) {
				struct agg_key key;
				int src_is_a = agg_key_of(ev, &key);
				__u64 due = 0;
				int report = aggregation != AGG_CONNECTION || aggregate(ev, &key, now, snip, carry, &due);
				/* The next packets of an absorbed UDP connection
				 * go to the slot (only plain UDP has one). A
				 * tunnel's are not plain: its outer headers are no
				 * connection. */
				if (!report && slot && !tunnelled)
					agg_slot_take(slot, ev, due, now);
				/* An absorbed packet skips the connection table too,
				 * unless it opens or answers a connection. */
				if (!report && hint == HINT_NONE)
					return;
				classify(ev, hint, &key.ct, src_is_a);
				if (!report)
					return;
			}
			/* ICMP fields travel without the echo identifier. */
			if (ev->proto == IPPROTO_ICMP || ev->proto == IPPROTO_ICMPV6)
				ev->sport = ev->dport = 0;
		}
	}

	/* A reported packet the node sends out may have been masqueraded:
	 * find the pod behind it. */
	if (dir == DIR_EGRESS && !(ev->flags & EV_WIRE) && (ev->flags & EV_L4) &&
	    (ev->proto == IPPROTO_TCP || ev->proto == IPPROTO_UDP) && untranslate(skb, ev, &we.wire))
		ev->flags |= EV_WIRE;

	/* A handshake's packets read it in classify. */
	if (!ev->ktime)
		ev->ktime = bpf_ktime_get_boot_ns();
	if (ev->flags & EV_WIRE) {
		ring_output(&we, sizeof(we));
		return;
	}
	if (snip && !output_snippet(skb, ev, l4off))
		return;
	ring_output(ev, sizeof(*ev));
}

SEC("tc")
int capture_ingress(struct __sk_buff *skb)
{
	capture(skb, DIR_INGRESS, 0);
	return PASS;
}

SEC("tc")
int capture_egress(struct __sk_buff *skb)
{
	capture(skb, DIR_EGRESS, 0);
	return PASS;
}

SEC("tc")
int capture_ingress_l3(struct __sk_buff *skb)
{
	capture(skb, DIR_INGRESS, 1);
	return PASS;
}

SEC("tc")
int capture_egress_l3(struct __sk_buff *skb)
{
	capture(skb, DIR_EGRESS, 1);
	return PASS;
}

char __license[] SEC("license") = "Dual BSD/GPL";
