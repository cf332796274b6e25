/* The connection table capture.c keeps to tell requests from replies, which
 * trace.c reads (never writes) to classify drops and retransmissions; the
 * loader makes both objects use one map. */
#pragma once

/* Connection key: the two (address, port) ends in a canonical order so both
 * directions of a connection share one entry. Word-aligned and written a
 * word at a time (the tail through its union), so the hash that reads it in
 * words never waits on narrower stores to it. */
struct ct_key {
	__u8 addr_a[16];
	__u8 addr_b[16];
	union {
		struct {
			__u16 port_a;
			__u16 port_b;
			__u8 proto;
			__u8 family;
			__u8 _pad[2];
		};
		__u64 tail;
	};
} __attribute__((aligned(8)));

struct ct_val {
	__u8 initiator_is_a; /* end a sent the connection's first packet */
	__u8 definitive;     /* learned from a SYN / echo, not guessed */
	__u8 syn_seen;       /* capture.c saw a SYN of the connection */
	__u8 _pad;
	/* The boot clock in microseconds, modulo 2^32 (71 minutes), when
	 * capture.c last saw the connection's SYN: a SYN-ACK's handshake
	 * latency is measured from it. The table's 8-byte values had room. */
	__u32 syn_us;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ct_key);
	__type(value, struct ct_val);
} conntrack SEC(".maps");

/* Returns <0, 0, >0 comparing the (addr, port) ends of an event. */
static __always_inline int cmp_ends(const struct event *ev)
{
	const __u32 *s = (const __u32 *)ev->saddr;
	const __u32 *d = (const __u32 *)ev->daddr;

#pragma unroll
	for (int i = 0; i < 4; i++) {
		__u32 a = bpf_ntohl(s[i]), b = bpf_ntohl(d[i]);
		if (a != b)
			return a < b ? -1 : 1;
	}
	return (int)ev->sport - (int)ev->dport;
}

/* Fills key for ev's connection and returns whether ev's source is end a. */
static __always_inline int ct_key_of(const struct event *ev, struct ct_key *key)
{
	int src_is_a = cmp_ends(ev) <= 0;
	struct ct_key t = {};

	t.proto = ev->proto;
	t.family = ev->family;
	if (src_is_a) {
		__builtin_memcpy(key->addr_a, ev->saddr, 16);
		__builtin_memcpy(key->addr_b, ev->daddr, 16);
		t.port_a = ev->sport;
		t.port_b = ev->dport;
	} else {
		__builtin_memcpy(key->addr_a, ev->daddr, 16);
		__builtin_memcpy(key->addr_b, ev->saddr, 16);
		t.port_a = ev->dport;
		t.port_b = ev->sport;
	}
	key->tail = t.tail;
	return src_is_a;
}

/* Marks ev as request or reply if its connection is in the table, without
 * adding it: only packets the capture program saw define connections. */
static __always_inline void ct_lookup(struct event *ev)
{
	struct ct_key key;
	int src_is_a = ct_key_of(ev, &key);
	struct ct_val *val = bpf_map_lookup_elem(&conntrack, &key);

	if (!val)
		return;
	ev->flags |= EV_REPLY_KNOWN;
	if ((__u8)src_is_a != val->initiator_is_a)
		ev->flags |= EV_REPLY;
}
