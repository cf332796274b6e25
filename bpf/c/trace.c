// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Tracepoint programs: packets the kernel drops (skb:kfree_skb) and TCP
 * segments it retransmits (tcp:tcp_retransmit_skb), reported into
 * capture.c's ring as struct event with EV_DROP or EV_RETRANSMIT. Both
 * attach as BTF tracepoints, which need neither tracefs nor kprobes. The
 * tracepoints fire for the whole kernel while one agent runs per node
 * namespace, so each reports only its own network namespace and those of
 * its pods. */

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>

#include "capture.h"
#include "ring.h"
#include "conntrack.h"
#include "tunnel.h"

#define AF_INET 2
#define AF_INET6 10

#define IPPROTO_ICMP 1
#define IPPROTO_TCP 6
#define IPPROTO_ICMPV6 58
#define IPPROTO_SCTP 132

/* Inode of the network namespace to report, set at load; 0 reports every
 * namespace. */
volatile const __u32 netns_ino = 0;

/* Inodes of further namespaces to report: those of the pods behind the
 * veths the source captures on, kept current by the source. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} netns_watch SEC(".maps");

/* Result of matching a namespace. */
#define NS_OTHER 0
#define NS_OWN 1
#define NS_POD 2

static __always_inline int match_netns(__u32 ino)
{
	if (!netns_ino || ino == netns_ino)
		return NS_OWN;
	return bpf_map_lookup_elem(&netns_watch, &ino) ? NS_POD : NS_OTHER;
}

/* Drops not reported because the packet had neither a socket nor a device
 * to tell its namespace by. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} drops_unattributed SEC(".maps");

static __always_inline __u32 sock_netns(const struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

/* Matches the packet's namespace against those being reported. The device
 * the packet is on is the witness: its socket may be the sender's in
 * another namespace, since sockets survive veth crossings (for TCP small
 * queues). Once UDP queues a packet to a socket, the device field holds
 * scratch data that is never a kernel address, so the read fails and the
 * socket, then the receiver's, tells instead. */
static __always_inline int skb_netns(struct sk_buff *skb)
{
	struct net_device *dev = BPF_CORE_READ(skb, dev);
	if (dev) {
		__u32 ino = BPF_CORE_READ(dev, nd_net.net, ns.inum);
		if (ino)
			return match_netns(ino);
	}
	struct sock *sk = BPF_CORE_READ(skb, sk);
	if (sk)
		return match_netns(sock_netns(sk));
	if (!netns_ino)
		return NS_OWN;

	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&drops_unattributed, &zero);
	if (n)
		(*n)++;
	return NS_OTHER;
}

/* Copies len bytes at off from the packet's linear data, refusing reads past
 * its end (tail) so that a truncated packet never yields stale bytes. */
static __always_inline int kload(const unsigned char *head, __u32 tail, __u32 off, void *to, __u32 len)
{
	if (off > 0xffff || off + len > tail)
		return -1;
	return bpf_probe_read_kernel(to, len, head + off);
}

/* Parses the IP header at off. Returns 0 when an L4 header follows at
 * *l4off, 1 when only L3 is usable (a later fragment, IPv6 extension
 * headers), -1 when the header is not valid. */
static __always_inline int drop_l3(const unsigned char *head, __u32 tail, __u32 off, __u16 proto, struct event *ev, __u32 *l4off)
{
	if (proto == ETH_P_IP) {
		__u8 h[20];

		if (kload(head, tail, off, h, sizeof(h)) || (h[0] >> 4) != 4 || (h[0] & 0xf) < 5)
			return -1;
		ev->family = EV_FAMILY_IPV4;
		ev->proto = h[9];
		__builtin_memcpy(ev->saddr, &h[12], 4);
		__builtin_memcpy(ev->daddr, &h[16], 4);
		*l4off = off + (h[0] & 0xf) * 4;
		return ((h[6] & 0x1f) << 8 | h[7]) != 0;
	}

	__u8 h[40];

	if (kload(head, tail, off, h, sizeof(h)) || (h[0] >> 4) != 6)
		return -1;
	ev->family = EV_FAMILY_IPV6;
	ev->proto = h[6];
	__builtin_memcpy(ev->saddr, &h[8], 16);
	__builtin_memcpy(ev->daddr, &h[24], 16);
	*l4off = off + 40;
	/* Dropped packets are reported with L4 only behind the fixed header;
	 * extension headers leave them at L3. */
	switch (h[6]) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_SCTP:
	case IPPROTO_ICMPV6:
		return 0;
	}
	return 1;
}

static __always_inline void drop_l4(const unsigned char *head, __u32 tail, __u32 off, struct event *ev)
{
	__u8 b[14];

	switch (ev->proto) {
	case IPPROTO_TCP:
		if (kload(head, tail, off, b, 14) || (b[12] >> 4) < 5)
			return;
		ev->sport = ((__u16)b[0] << 8) | b[1];
		ev->dport = ((__u16)b[2] << 8) | b[3];
		ev->tcp_flags = b[13] | ((__u16)(b[12] & 1) << 8);
		break;
	case IPPROTO_UDP:
	case IPPROTO_SCTP:
		if (kload(head, tail, off, b, 4))
			return;
		ev->sport = ((__u16)b[0] << 8) | b[1];
		ev->dport = ((__u16)b[2] << 8) | b[3];
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (kload(head, tail, off, b, 2))
			return;
		ev->icmp_type = b[0];
		ev->icmp_code = b[1];
		break;
	default:
		return;
	}
	ev->flags |= EV_L4;
}

/* Whether packets freed with SKB_DROP_REASON_NOT_SPECIFIED are reported,
 * set at load. Many kernel paths free packets with it after no failure
 * (e.g. IPv6 multicast that no one on the node listens to), so by default
 * they are only counted, in drops_unreported. */
volatile const __u8 report_unspecified = 0;

struct drop_tally {
	__u64 packets;
	__u64 bytes;
};

/* Packets freed with SKB_DROP_REASON_NOT_SPECIFIED, and their bytes, that
 * would have been reported had report_unspecified been set. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct drop_tally);
} drops_unreported SEC(".maps");

/* Reports whether reason is no drop: a packet freed before any decision
 * (SKB_NOT_DROPPED_YET, 0 in every kernel) or one consumed normally.
 * SKB_CONSUMED was inserted into the enum later, taking the value older
 * kernels give NOT_SPECIFIED, so it is resolved against the running
 * kernel, as is NOT_SPECIFIED below. */
static __always_inline int is_not_dropped(enum skb_drop_reason reason)
{
	if (reason == SKB_NOT_DROPPED_YET)
		return 1;
	return bpf_core_enum_value_exists(enum skb_drop_reason, SKB_CONSUMED) &&
	       reason == bpf_core_enum_value(enum skb_drop_reason, SKB_CONSUMED);
}

static __always_inline int is_unspecified(enum skb_drop_reason reason)
{
	return bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_NOT_SPECIFIED) &&
	       reason == bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_NOT_SPECIFIED);
}

/* When the dropped packet is a tunnel's (see tunnel.h), makes ev describe
 * the packet inside instead: a drop in the tunnel's path is the pod
 * flow's. Returns l3only for the packet ev then describes, with *l4off
 * moved along. */
static __always_inline int drop_inner(const unsigned char *head, __u32 tail, struct event *ev, __u32 *l4off)
{
	struct wire tun;
	__u16 inner_proto = 0;
	__u32 off;

	if (ev->proto == IPPROTO_UDP) {
		__u8 h[UDP_TUNNEL_HLEN];

		if (kload(head, tail, *l4off, h, sizeof(h)))
			return 0;
		off = udp_tunnel(h, *l4off, tunnel_port((__u16)h[2] << 8 | h[3]), &tun, &inner_proto);
	} else {
		off = ipip_tunnel(ev->proto, *l4off, &tun, &inner_proto);
	}
	if (!off)
		return 0;
	if (inner_proto == ETH_P_TEB) {
		__u8 et[2];

		if (kload(head, tail, off + 12, et, 2))
			return 0;
		inner_proto = (__u16)et[0] << 8 | et[1];
		off += ETH_HLEN;
	}
	if (inner_proto != ETH_P_IP && inner_proto != ETH_P_IPV6)
		return 0;
	struct event inner = {};
	__u32 inner_l4off = 0;
	int l3only = drop_l3(head, tail, off, inner_proto, &inner, &inner_l4off);
	if (l3only < 0)
		return 0;
	ev->family = inner.family;
	ev->proto = inner.proto;
	__builtin_memcpy(ev->saddr, inner.saddr, 16);
	__builtin_memcpy(ev->daddr, inner.daddr, 16);
	*l4off = inner_l4off;
	return l3only;
}

/* Reports whether a reason only means a socket's queue was freed as the
 * socket closed: packets the network delivered and the application never
 * read, which healthy connections leave behind. The values are resolved
 * against the running kernel; a kernel without the name skips the test. */
static __always_inline int is_teardown(enum skb_drop_reason reason)
{
	if (bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_QUEUE_PURGE) &&
	    reason == bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_QUEUE_PURGE))
		return 1;
	if (bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_SOCKET_CLOSE) &&
	    reason == bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_SOCKET_CLOSE))
		return 1;
	return 0;
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(report_drop, struct sk_buff *skb, void *location, enum skb_drop_reason reason)
{
	if (is_not_dropped(reason) || is_teardown(reason))
		return 0;
	__u16 proto = bpf_ntohs(BPF_CORE_READ(skb, protocol));
	if (proto != ETH_P_IP && proto != ETH_P_IPV6)
		return 0;
	__u16 nh = BPF_CORE_READ(skb, network_header);
	if (nh == (__u16)~0U)
		return 0;
	int ns = skb_netns(skb);
	if (ns == NS_OTHER)
		return 0;

	struct event ev = {};
	const unsigned char *head = BPF_CORE_READ(skb, head);
	__u32 tail = BPF_CORE_READ(skb, tail);
	__u32 l4off = 0;
	int l3only = drop_l3(head, tail, nh, proto, &ev, &l4off);
	if (l3only < 0)
		return 0;
	if (!l3only)
		l3only = drop_inner(head, tail, &ev, &l4off);
	if (!report_unspecified && is_unspecified(reason)) {
		__u32 zero = 0;
		struct drop_tally *t = bpf_map_lookup_elem(&drops_unreported, &zero);
		if (t) {
			t->packets++;
			t->bytes += BPF_CORE_READ(skb, len);
		}
		return 0;
	}
	if (!l3only)
		drop_l4(head, tail, l4off, &ev);
	if (ev.proto == IPPROTO_ICMP || ev.proto == IPPROTO_ICMPV6)
		ev.sport = ev.dport = 0;
	else if (ev.flags & EV_L4)
		ct_lookup(&ev);

	struct net_device *dev = BPF_CORE_READ(skb, dev);
	__u32 iif = BPF_CORE_READ(skb, skb_iif);
	ev.ifindex = dev ? BPF_CORE_READ(dev, ifindex) : iif;
	/* A packet some device received has an input interface; one a local
	 * socket sent has none. */
	ev.dir = iif ? DIR_INGRESS : DIR_EGRESS;
	ev.ktime = bpf_ktime_get_boot_ns();
	ev.len = BPF_CORE_READ(skb, len);
	ev.flags |= EV_DROP | (ns == NS_POD ? EV_POD_NS : 0);
	ev.reason = reason;
	ring_output(&ev, sizeof(ev));
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(report_retransmit, const struct sock *sk, const struct sk_buff *skb)
{
	int ns = match_netns(sock_netns(sk));
	if (ns == NS_OTHER)
		return 0;

	struct event ev = {};
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family == AF_INET) {
		__be32 s = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__be32 d = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		__builtin_memcpy(ev.saddr, &s, 4);
		__builtin_memcpy(ev.daddr, &d, 4);
		ev.family = EV_FAMILY_IPV4;
	} else if (family == AF_INET6) {
		BPF_CORE_READ_INTO(&ev.saddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&ev.daddr, sk, __sk_common.skc_v6_daddr);
		ev.family = EV_FAMILY_IPV6;
		/* A dual-stack socket speaking IPv4 holds v4-mapped addresses;
		 * report them as the IPv4 packets they are. */
		const __u32 *a = (const __u32 *)ev.saddr;
		if (a[0] == 0 && a[1] == 0 && a[2] == bpf_htonl(0xffff)) {
			__builtin_memcpy(ev.saddr, &ev.saddr[12], 4);
			__builtin_memcpy(ev.daddr, &ev.daddr[12], 4);
			__builtin_memset(&ev.saddr[4], 0, 12);
			__builtin_memset(&ev.daddr[4], 0, 12);
			ev.family = EV_FAMILY_IPV4;
		}
	} else {
		return 0;
	}
	ev.sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	ev.dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	ev.proto = IPPROTO_TCP;
	ct_lookup(&ev);

	/* The segment's flags live in its control block; the field grew
	 * from one byte to two in Linux 6.x. */
	struct tcp_skb_cb *cb = (struct tcp_skb_cb *)&skb->cb[0];
	if (bpf_core_field_size(cb->tcp_flags) == 1) {
		__u8 f = 0;
		bpf_core_read(&f, 1, &cb->tcp_flags);
		ev.tcp_flags = f;
	} else {
		__u16 f = 0;
		bpf_core_read(&f, 2, &cb->tcp_flags);
		ev.tcp_flags = f & 0x1ff;
	}

	ev.ktime = bpf_ktime_get_boot_ns();
	ev.len = BPF_CORE_READ(skb, len);
	ev.flags |= EV_RETRANSMIT | EV_L4 | (ns == NS_POD ? EV_POD_NS : 0);
	ring_output(&ev, sizeof(ev));
	return 0;
}

char __license[] SEC("license") = "Dual BSD/GPL";
