/* Node-level packet and byte counters per interface and direction, kept
 * per CPU so counting needs no atomics, summed by the agent at scrape time.
 * They count every packet the capture program sees, whatever aggregation
 * reports of it. */
#pragma once

struct fwd_key {
	__u32 ifindex;
	__u32 dir; /* DIR_* */
};

struct fwd_val {
	__u64 packets;
	__u64 bytes;
};

/* Interfaces with an index below FWD_SLOTS count in an array slot (an
 * inlined lookup); higher ones, in a hash (≈ 25 ns more per packet). The
 * agent clears an interface's slots or entries when it detaches. */
#define FWD_SLOTS 4096

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FWD_SLOTS * 2);
	__type(key, __u32);
	__type(value, struct fwd_val);
} forward_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct fwd_key);
	__type(value, struct fwd_val);
} forward_counters SEC(".maps");

/* Packets the counters missed because the table was full. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} forward_count_failures SEC(".maps");

static __always_inline void count_forward(__u32 ifindex, __u8 dir, __u32 len)
{
	struct fwd_val *v;

	if (ifindex < FWD_SLOTS) {
		__u32 slot = ifindex * 2 + dir;
		v = bpf_map_lookup_elem(&forward_slots, &slot);
		if (v) {
			v->packets++;
			v->bytes += len;
		}
		return;
	}
	struct fwd_key key = { .ifindex = ifindex, .dir = dir };
	v = bpf_map_lookup_elem(&forward_counters, &key);

	if (v) {
		v->packets++;
		v->bytes += len;
		return;
	}
	/* Another CPU may create the entry first; this CPU's slot is then
	 * still ours to write. */
	struct fwd_val nv = { .packets = 1, .bytes = len };
	if (!bpf_map_update_elem(&forward_counters, &key, &nv, BPF_NOEXIST))
		return;
	v = bpf_map_lookup_elem(&forward_counters, &key);
	if (v) {
		v->packets++;
		v->bytes += len;
		return;
	}
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&forward_count_failures, &zero);
	if (n)
		(*n)++;
}
