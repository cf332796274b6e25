/* Source translation (masquerade, SNAT) found in the kernel's connection
 * tracking, so that a pod packet the node sends out under its own address
 * is still the pod's flow. capture.c only. */
#pragma once

extern struct nf_conn *bpf_skb_ct_lookup(struct __sk_buff *skb, struct bpf_sock_tuple *tuple, __u32 tuple__sz,
					 struct bpf_ct_opts *opts, __u32 opts__sz) __ksym __weak;
extern void bpf_ct_release(struct nf_conn *ct) __ksym __weak;

/* The size of struct bpf_ct_opts every kernel with the kfunc accepts:
 * later kernels grew it to 16 bytes and take 12 still. */
#define CT_OPTS_SZ 12

static __always_inline int addr_eq(const void *a, const void *b)
{
	const __u32 *x = a, *y = b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3];
}

/* When the packet ev describes, leaving through the node, had its source
 * translated, moves the source as on the wire into w, puts the source the
 * connection started with into ev and returns 1; else returns 0. A global
 * function, verified once, that holds the connection only inside. A kernel
 * without the kfunc (or without connection tracking) never translates. */
__noinline int untranslate(struct __sk_buff *skb, struct event *ev, struct wire *w)
{
	struct bpf_sock_tuple t = {};
	__u32 tsz;

	if (!ev || !w || !bpf_skb_ct_lookup)
		return 0;
	/* The packet turned around is the connection's reply tuple. */
	if (ev->family == EV_FAMILY_IPV4) {
		__builtin_memcpy(&t.ipv4.saddr, ev->daddr, 4);
		__builtin_memcpy(&t.ipv4.daddr, ev->saddr, 4);
		t.ipv4.sport = bpf_htons(ev->dport);
		t.ipv4.dport = bpf_htons(ev->sport);
		tsz = sizeof(t.ipv4);
	} else {
		__builtin_memcpy(t.ipv6.saddr, ev->daddr, 16);
		__builtin_memcpy(t.ipv6.daddr, ev->saddr, 16);
		t.ipv6.sport = bpf_htons(ev->dport);
		t.ipv6.dport = bpf_htons(ev->sport);
		tsz = sizeof(t.ipv6);
	}
	struct bpf_ct_opts opts = { .netns_id = BPF_F_CURRENT_NETNS, .l4proto = ev->proto };
	struct nf_conn *ct = bpf_skb_ct_lookup(skb, &t, tsz, &opts, CT_OPTS_SZ);
	if (!ct)
		return 0;
	union nf_inet_addr orig_src = ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple.src.u3;
	__be16 orig_port = ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple.src.u.all;
	union nf_inet_addr reply_dst = ct->tuplehash[IP_CT_DIR_REPLY].tuple.dst.u3;
	bpf_ct_release(ct);

	/* The lookup matches either direction: only when the packet's source
	 * is where replies go, and the connection started from elsewhere,
	 * was the source translated. */
	if (!addr_eq(&reply_dst, ev->saddr) || addr_eq(&orig_src, ev->saddr))
		return 0;
	__builtin_memset(w, 0, sizeof(*w));
	w->kind = WIRE_SNAT;
	w->family = ev->family;
	__builtin_memcpy(w->saddr, ev->saddr, 16);
	w->sport = ev->sport;
	__builtin_memcpy(ev->saddr, &orig_src, 16);
	ev->sport = bpf_ntohs(orig_port);
	return 1;
}
