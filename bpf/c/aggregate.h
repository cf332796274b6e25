/* In-kernel aggregation for the capture program: per connection, interface
 * and direction, report only what a reader needs to follow the connection
 * (its first packet, each TCP flag not yet seen, every SYN, FIN and RST, and
 * one report per interval) and count the packets in between into the next report. */
#pragma once

#define AGG_NONE 0        /* report every packet */
#define AGG_CONNECTION 1  /* aggregate per connection (default) */

/* Set at load time (bpf.Config). */
volatile const __u8 aggregation = AGG_CONNECTION;
volatile const __u64 report_interval_ns = 30000000000ULL;
/* Report 1 in sample_rate of the packets aggregation would absorb; 0 or 1
 * report none of them. */
volatile const __u32 sample_rate = 0;

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

/* A report's packet and byte totals must fit struct event's 32-bit packets
 * and len: once either has accumulated this much, the next packet is
 * reported. The headroom, 256 MiB, is a thousand of the largest skbs (BIG
 * TCP), or what every CPU's slot (aggslot.h) of a 512-CPU node can hand
 * over between two checks. */
#define AGG_COUNT_LIMIT 0xF0000000ULL

/* One connection as seen at one attachment, in one of its directions: each
 * interface a packet crosses reports it. Written in words, as struct
 * ct_key. */
struct agg_key {
	struct ct_key ct;
	union {
		struct {
			__u32 ifindex;
			__u8 dir;      /* DIR_* of the attachment */
			__u8 src_is_a; /* the packet travels from end a to end b */
			__u8 _pad[2];
		};
		__u64 tail;
	};
};

/* Fills key for ev's connection as seen at its attachment and returns
 * whether ev's source is end a of key->ct. */
static __always_inline int agg_key_of(const struct event *ev, struct agg_key *key)
{
	struct agg_key t = {};

	t.src_is_a = ct_key_of(ev, &key->ct);
	t.ifindex = ev->ifindex;
	t.dir = ev->dir;
	key->tail = t.tail;
	return t.src_is_a;
}

struct agg_val {
	__u64 reported; /* bpf_ktime_get_coarse_ns() of the last report */
	/* Absorbed since the last report: packets in the high 32 bits, their
	 * bytes in the low 32. One word takes one atomic add per packet, not
	 * two, and an atomic add is a third of what an absorbed packet costs.
	 * Both halves stay below AGG_COUNT_LIMIT, whose headroom no number of
	 * concurrent adders between the test and the add can fill, so the
	 * bytes never carry into the packets. */
	__u64 pending;
	__u16 seen;     /* TCP flags already reported */
	__u8 _pad[6];
};

#define AGG_PENDING(packets, bytes) ((__u64)(packets) << 32 | (__u32)(bytes))

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct agg_key);
	__type(value, struct agg_val);
} aggregates SEC(".maps");

/* Decides whether ev, seen now, is reported. If so it fills ev->packets and
 * ev->len with the packets and bytes the report stands for (itself plus
 * what was absorbed since the last report) and returns 1; otherwise it
 * counts the packet into its entry, sets *due to when the entry's next
 * report is due, and returns 0. force reports the packet regardless
 * (payload snippets). carry is what this CPU's slot counted of the
 * connection (AGG_PENDING, aggslot.h), accounted with the packet. */
static __always_inline int aggregate(struct event *ev, const struct agg_key *key, __u64 now, int force, __u64 carry,
				     __u64 *due)
{
	__u64 carry_packets = carry >> 32, carry_bytes = (__u32)carry;
	__u16 fl = ev->tcp_flags;
	struct agg_val *v = bpf_map_lookup_elem(&aggregates, key);
	if (!v) {
		struct agg_val nv = { .reported = now, .seen = fl };
		bpf_map_update_elem(&aggregates, key, &nv, BPF_ANY);
		ev->packets = 1 + carry_packets;
		ev->len += carry_bytes;
		return 1;
	}

	/* A SYN, or a SYN-ACK after the connection closed, opens a new
	 * connection on the same ports: its flags are news again. */
	if ((fl & TCP_SYN) && (!(fl & TCP_ACK) || (v->seen & (TCP_FIN | TCP_RST))))
		v->seen = 0;

	/* A SYN-ACK's report carries its handshake latency where other
	 * reports carry their count (capture.h): it stands for itself, and
	 * what was absorbed before it waits for the entry's next report. */
	if ((fl & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK)) {
		v->seen |= fl;
		v->reported = now;
		ev->packets = 1;
		if (carry)
			__sync_fetch_and_add(&v->pending, carry);
		return 1;
	}

	__u64 pending = v->pending;
	__u64 packets = pending >> 32, bytes = (__u32)pending;
	if (!force && !(fl & ~v->seen) && !(fl & (TCP_SYN | TCP_FIN | TCP_RST)) &&
	    now - v->reported < report_interval_ns && bytes < AGG_COUNT_LIMIT && packets < AGG_COUNT_LIMIT &&
	    (sample_rate <= 1 || packets + 1 < sample_rate)) {
		__sync_fetch_and_add(&v->pending, AGG_PENDING(1, ev->len) + carry);
		*due = v->reported + report_interval_ns;
		return 0;
	}
	/* Take what was read, keeping concurrent additions for the next
	 * report (the add form needs no fetch, so no newer instruction set). */
	__sync_fetch_and_add(&v->pending, -pending);
	v->seen |= fl;
	v->reported = now;

	packets += carry_packets;
	bytes += ev->len + carry_bytes;
	ev->len = bytes > 0xFFFFFFFFULL ? 0xFFFFFFFF : (__u32)bytes;
	ev->packets = packets + 1;
	return 1;
}
