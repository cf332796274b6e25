/* A per-CPU cache in front of the aggregation table, for UDP: small
 * datagrams are where a packet's fixed cost weighs most. A packet whose
 * connection this CPU absorbed last is counted in the CPU's slot for it,
 * straight from its headers: no event, no key, no hash-table lookup, no
 * atomic add on a line other CPUs write. What a slot counts goes with its
 * connection's next report taken on this CPU, or into the shared entry
 * when another connection needs the slot, so every count is reported
 * once. Only the program on this CPU touches a slot, and tc programs do
 * not nest on a CPU, so plain adds suffice. */
#pragma once

#define AGG_SLOT_BITS 10
#define AGG_SLOTS (1 << AGG_SLOT_BITS)
/* A slot hands its count over after this much, so that the shared entry's
 * pending halves keep AGG_COUNT_LIMIT's headroom (aggregate.h): one
 * packet in thousands of small ones takes the event path. */
#define AGG_SLOT_MAX_PACKETS (1U << 16)
#define AGG_SLOT_MAX_BYTES (1U << 18)
/* The longest jiffy, at HZ 100. A slot times its connection's next report
 * in jiffies, whose clock the JIT inlines as a load where the coarse clock
 * is a helper call. Converting with the longest jiffy, it hands over
 * early on faster ticks, to the event path, which times in nanoseconds. */
#define AGG_SLOT_JIFFY_NS_MAX 10000000ULL

struct agg_slot {
	/* Source, then destination, as in the packet: IPv4's take the first
	 * word, the rest zero. */
	__u64 addrs[4];
	/* The UDP header's bytes 0-3 (source and destination port, as in
	 * the packet), then the interface's index: one word to compare. */
	__u64 where;
	__u16 kind;     /* AGG_SLOT_KIND; 0 for a free slot */
	__u8 _pad[6];
	__u64 pending;  /* AGG_PENDING of what the slot counted */
	__u64 due;      /* jiffies when the entry's next report may be due */
};

/* A slot's family (EV_FAMILY_*, never 0) and direction, compared as one:
 * a program's direction is a constant, so the compare is with an
 * immediate. */
#define AGG_SLOT_KIND(family, dir) ((__u16)(family) | (__u16)(dir) << 8)
#define AGG_SLOT_WHERE(ports, ifindex) ((__u64)(ports) | (__u64)(ifindex) << 32)
/* The bits of a slot's pending count that are set once it holds
 * AGG_SLOT_MAX_PACKETS packets or AGG_SLOT_MAX_BYTES bytes. */
#define AGG_SLOT_FULL (AGG_PENDING(~(AGG_SLOT_MAX_PACKETS - 1), ~(AGG_SLOT_MAX_BYTES - 1)))

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, AGG_SLOTS);
	__type(key, __u32);
	__type(value, struct agg_slot);
} agg_slots SEC(".maps");

static __always_inline __u32 agg_slot_index(__u64 h)
{
	return (h * 0x9E3779B97F4A7C15ULL) >> (64 - AGG_SLOT_BITS);
}

/* Counts the packet into slot s, returning 1, if the connection's next
 * report is not due and the slot has room; else takes the slot's count
 * into *carry and frees the slot. */
static __always_inline int agg_slot_add(struct __sk_buff *skb, struct agg_slot *s, __u64 *carry)
{
	/* The clock first: the compiler keeps no value across what it
	 * takes for a call. */
	__u64 jiffies = bpf_jiffies64();
	__u64 p = s->pending;

	if (jiffies < s->due && !(p & AGG_SLOT_FULL)) {
		s->pending = p + AGG_PENDING(1, skb->len);
		return 1;
	}
	*carry = p;
	s->pending = 0;
	s->kind = 0;
	return 0;
}

/* Counts the packet into this CPU's slot if the slot holds its
 * connection and the connection has no report due, returning 1.
 * Otherwise returns 0 with *slot the slot the connection maps to (NULL
 * for packets no slot holds: not UDP right after the IP header, IPv4 with
 * options, a later fragment) and *carry what the slot had counted of this
 * connection, now the caller's to account. A tunnel's outer headers map
 * to a slot too, but the caller never gives them one (checking the port
 * here would cost every UDP packet more than the lookup costs a
 * tunnel's). l3 and l3proto are capture()'s: a device without a
 * link-layer header, and skb->protocol in host order. Each family
 * compares only its own words: an IPv4 slot's last three are zero. */
static __always_inline int agg_slot_count(struct __sk_buff *skb, __u32 ifindex, __u8 dir, int l3, __u16 l3proto,
					  struct agg_slot **slot, __u64 *carry)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	__u16 proto = l3proto;
	__u8 *ip = data;
	struct agg_slot *s;
	__u32 idx;

	if (!l3) {
		if (data + ETH_HLEN > end)
			return 0;
		proto = bpf_ntohs(*(__u16 *)(data + 12));
		ip += ETH_HLEN;
	}
	if (proto == ETH_P_IP) {
		if ((void *)(ip + 28) > end)
			return 0;
		/* No options, UDP, and the first fragment if any (the one
		 * whose ports the event path reads too). */
		if (ip[0] != 0x45 || ip[9] != IPPROTO_UDP || (*(__u16 *)(ip + 6) & bpf_htons(0x1fff)))
			return 0;
		__u64 addrs = *(__u64 *)(ip + 12);
		__u64 where = AGG_SLOT_WHERE(*(__u32 *)(ip + 20), ifindex);
		const __u16 kind = AGG_SLOT_KIND(EV_FAMILY_IPV4, dir);
		idx = agg_slot_index(addrs ^ where ^ kind);
		s = bpf_map_lookup_elem(&agg_slots, &idx);
		if (!s)
			return 0;
		*slot = s;
		if (s->kind != kind || s->where != where || s->addrs[0] != addrs)
			return 0;
	} else if (proto == ETH_P_IPV6) {
		/* UDP as the next header: no extension headers, so no
		 * fragment either. */
		if ((void *)(ip + 48) > end)
			return 0;
		if ((ip[0] >> 4) != 6 || ip[6] != IPPROTO_UDP)
			return 0;
		__u64 *addrs = (__u64 *)(ip + 8);
		__u64 where = AGG_SLOT_WHERE(*(__u32 *)(ip + 40), ifindex);
		const __u16 kind = AGG_SLOT_KIND(EV_FAMILY_IPV6, dir);
		idx = agg_slot_index(addrs[0] ^ addrs[1] ^ addrs[2] ^ addrs[3] ^ where ^ kind);
		s = bpf_map_lookup_elem(&agg_slots, &idx);
		if (!s)
			return 0;
		*slot = s;
		/* The addresses are compared from the packet, not kept in
		 * registers across the lookup, a call to the compiler. */
		if (s->kind != kind || s->where != where || s->addrs[0] != addrs[0] || s->addrs[1] != addrs[1] ||
		    s->addrs[2] != addrs[2] || s->addrs[3] != addrs[3])
			return 0;
	} else {
		return 0;
	}
	return agg_slot_add(skb, s, carry);
}

/* Moves what an evicted slot counted into its connection's shared entry,
 * for the entry's next report, recreating the entry if the table evicted
 * it. A global function: verified once, and its frame is apart from the
 * capture program's. */
__noinline int agg_slot_flush(struct agg_slot *s, __u64 now)
{
	struct event ev = {};
	struct agg_key key;

	if (!s)
		return 0;
	__u64 pending = s->pending;
	/* The ports' word as the packet had it: bytes in network order. */
	__u32 ports = (__u32)s->where;
	__u8 *p = (__u8 *)&ports;
	__u8 family = (__u8)s->kind;
	if (family == EV_FAMILY_IPV4) {
		__builtin_memcpy(ev.saddr, s->addrs, 4);
		__builtin_memcpy(ev.daddr, (__u8 *)s->addrs + 4, 4);
	} else {
		__builtin_memcpy(ev.saddr, s->addrs, 16);
		__builtin_memcpy(ev.daddr, &s->addrs[2], 16);
	}
	ev.sport = (__u16)p[0] << 8 | p[1];
	ev.dport = (__u16)p[2] << 8 | p[3];
	ev.proto = IPPROTO_UDP;
	ev.family = family;
	ev.ifindex = s->where >> 32;
	ev.dir = s->kind >> 8;
	agg_key_of(&ev, &key);
	/* A second round when another CPU created the entry in between. */
	for (int i = 0; i < 2; i++) {
		struct agg_val *v = bpf_map_lookup_elem(&aggregates, &key);
		if (v) {
			__sync_fetch_and_add(&v->pending, pending);
			return 0;
		}
		struct agg_val nv = { .reported = now, .pending = pending };
		if (!bpf_map_update_elem(&aggregates, &key, &nv, BPF_NOEXIST))
			return 0;
	}
	return 0;
}

/* Gives slot s to ev's connection, whose entry just absorbed ev at now and
 * has its next report due at due (both the coarse clock). */
static __always_inline void agg_slot_take(struct agg_slot *s, const struct event *ev, __u64 due, __u64 now)
{
	__u8 p[4] = { ev->sport >> 8, ev->sport, ev->dport >> 8, ev->dport };
	__u32 ports;

	if (s->kind && s->pending)
		agg_slot_flush(s, now);
	if (ev->family == EV_FAMILY_IPV4) {
		__builtin_memcpy(s->addrs, ev->saddr, 4);
		__builtin_memcpy((__u8 *)s->addrs + 4, ev->daddr, 4);
		s->addrs[1] = s->addrs[2] = s->addrs[3] = 0;
	} else {
		__builtin_memcpy(s->addrs, ev->saddr, 16);
		__builtin_memcpy(&s->addrs[2], ev->daddr, 16);
	}
	__builtin_memcpy(&ports, p, 4);
	s->where = AGG_SLOT_WHERE(ports, ev->ifindex);
	s->pending = 0;
	s->due = bpf_jiffies64() + (due > now ? (due - now) / AGG_SLOT_JIFFY_NS_MAX : 0);
	s->kind = AGG_SLOT_KIND(ev->family, ev->dir);
}
