/* A per-CPU cache in front of the aggregation table, for IPv4 UDP: small
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

struct agg_slot {
	__u64 addrs;    /* source, destination: the packet's bytes 12-19 */
	__u32 ports;    /* source, destination: the UDP header's bytes 0-3 */
	__u32 ifindex;
	__u8 dir;
	__u8 valid;
	__u8 _pad[6];
	__u64 pending;  /* AGG_PENDING of what the slot counted */
	__u64 due;      /* coarse clock when the entry's next report is due */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, AGG_SLOTS);
	__type(key, __u32);
	__type(value, struct agg_slot);
} agg_slots SEC(".maps");

static __always_inline __u32 agg_slot_index(__u64 addrs, __u32 ports, __u32 ifindex, __u8 dir)
{
	__u64 h = addrs ^ ((__u64)ports << 17) ^ ((__u64)ifindex << 1 | dir);

	return (h * 0x9E3779B97F4A7C15ULL) >> (64 - AGG_SLOT_BITS);
}

/* Counts the packet into this CPU's slot if the slot holds its
 * connection and the connection has no report due, returning 1.
 * Otherwise returns 0 with *slot the slot the connection maps to (NULL
 * for packets no slot holds: not IPv4 UDP, with IP options, a later
 * fragment) and *carry what the slot had counted of this connection, now
 * the caller's to account. A tunnel's outer headers map to a slot too,
 * but the caller never gives them one (checking the port here would cost
 * every UDP packet more than the lookup costs a tunnel's). l3 and l3proto
 * are capture()'s: a device without a link-layer header, and
 * skb->protocol in host order. */
static __always_inline int agg_slot_count(struct __sk_buff *skb, __u32 ifindex, __u8 dir, int l3, __u16 l3proto,
					  __u64 now, struct agg_slot **slot, __u64 *carry)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	__u32 off = 0;

	if (l3) {
		if (l3proto != ETH_P_IP)
			return 0;
	} else {
		if (data + ETH_HLEN > end || *(__u16 *)(data + 12) != bpf_htons(ETH_P_IP))
			return 0;
		off = ETH_HLEN;
	}
	__u8 *ip = data + off;
	if ((void *)(ip + 28) > end)
		return 0;
	/* No options, UDP, and the first fragment if any (the one whose
	 * ports the event path reads too). */
	if (ip[0] != 0x45 || ip[9] != IPPROTO_UDP || (*(__u16 *)(ip + 6) & bpf_htons(0x1fff)))
		return 0;
	__u64 addrs = *(__u64 *)(ip + 12);
	__u32 ports = *(__u32 *)(ip + 20);
	__u32 idx = agg_slot_index(addrs, ports, ifindex, dir);
	struct agg_slot *s = bpf_map_lookup_elem(&agg_slots, &idx);
	if (!s)
		return 0;
	*slot = s;
	if (!s->valid || s->addrs != addrs || s->ports != ports || s->ifindex != ifindex || s->dir != dir)
		return 0;
	__u64 p = s->pending;
	if (now < s->due && (p >> 32) < AGG_SLOT_MAX_PACKETS && (__u32)p < AGG_SLOT_MAX_BYTES) {
		s->pending = p + AGG_PENDING(1, skb->len);
		return 1;
	}
	*carry = p;
	s->pending = 0;
	s->valid = 0;
	return 0;
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
	__u8 *p = (__u8 *)&s->ports;
	__builtin_memcpy(ev.saddr, &s->addrs, 4);
	__builtin_memcpy(ev.daddr, (__u8 *)&s->addrs + 4, 4);
	ev.sport = (__u16)p[0] << 8 | p[1];
	ev.dport = (__u16)p[2] << 8 | p[3];
	ev.proto = IPPROTO_UDP;
	ev.family = EV_FAMILY_IPV4;
	ev.ifindex = s->ifindex;
	ev.dir = s->dir;
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

/* Gives slot s to ev's connection, whose entry just absorbed ev and has
 * its next report due at due. */
static __always_inline void agg_slot_take(struct agg_slot *s, const struct event *ev, __u64 due, __u64 now)
{
	__u8 p[4] = { ev->sport >> 8, ev->sport, ev->dport >> 8, ev->dport };

	if (s->valid && s->pending)
		agg_slot_flush(s, now);
	__builtin_memcpy(&s->addrs, ev->saddr, 4);
	__builtin_memcpy((__u8 *)&s->addrs + 4, ev->daddr, 4);
	__builtin_memcpy(&s->ports, p, 4);
	s->ifindex = ev->ifindex;
	s->dir = ev->dir;
	s->pending = 0;
	s->due = due;
	s->valid = 1;
}
