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

/* A report's byte total must fit struct event's 32-bit len: once this much
 * has accumulated, the next packet is reported. The headroom exceeds the
 * largest skb (BIG TCP). */
#define AGG_BYTES_LIMIT 0xF0000000ULL

/* One connection as seen at one attachment, in one of its directions: each
 * interface a packet crosses reports it. */
struct agg_key {
	struct ct_key ct;
	__u32 ifindex;
	__u8 dir;      /* DIR_* of the attachment */
	__u8 src_is_a; /* the packet travels from end a to end b */
	__u8 _pad[2];
};

struct agg_val {
	__u64 reported; /* bpf_ktime_get_coarse_ns() of the last report */
	__u64 packets;  /* absorbed since the last report */
	__u64 bytes;
	__u16 seen;     /* TCP flags already reported */
	__u8 _pad[6];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct agg_key);
	__type(value, struct agg_val);
} aggregates SEC(".maps");

/* Decides whether ev, seen now, is reported. If so it fills ev->packets and
 * ev->len with the packets and bytes the report stands for (itself plus
 * what was absorbed since the last report) and returns 1; otherwise it
 * counts the packet into its entry and returns 0. force reports the packet
 * regardless (payload snippets). */
static __always_inline int aggregate(struct event *ev, const struct ct_key *ct, int src_is_a,
				     __u32 ifindex, __u8 dir, __u64 now, int force)
{
	struct agg_key key = {};
	__builtin_memcpy(&key.ct, ct, sizeof(key.ct));
	key.ifindex = ifindex;
	key.dir = dir;
	key.src_is_a = src_is_a;

	__u16 fl = ev->tcp_flags;
	struct agg_val *v = bpf_map_lookup_elem(&aggregates, &key);
	if (!v) {
		struct agg_val nv = { .reported = now, .seen = fl };
		bpf_map_update_elem(&aggregates, &key, &nv, BPF_ANY);
		ev->packets = 1;
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
		return 1;
	}

	__u64 packets = v->packets, bytes = v->bytes;
	if (!force && !(fl & ~v->seen) && !(fl & (TCP_SYN | TCP_FIN | TCP_RST)) &&
	    now - v->reported < report_interval_ns && bytes < AGG_BYTES_LIMIT &&
	    (sample_rate <= 1 || packets + 1 < sample_rate)) {
		__sync_fetch_and_add(&v->packets, 1);
		__sync_fetch_and_add(&v->bytes, ev->len);
		return 0;
	}
	/* Take what was read, keeping concurrent additions for the next
	 * report (the add form needs no fetch, so no newer instruction set). */
	__sync_fetch_and_add(&v->packets, -packets);
	__sync_fetch_and_add(&v->bytes, -bytes);
	v->seen |= fl;
	v->reported = now;

	bytes += ev->len;
	ev->len = bytes > 0xFFFFFFFFULL ? 0xFFFFFFFF : (__u32)bytes;
	ev->packets = packets + 1 > 0xFFFFFFFFULL ? 0xFFFFFFFF : (__u32)(packets + 1);
	return 1;
}
