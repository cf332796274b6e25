/* The ring buffer every program of the datapath reports into, and the count
 * of events it had no room for. capture.c and trace.c both declare these;
 * the loader makes trace.c's programs use the capture object's maps, so one
 * reader sees every event in order of submission. */
#pragma once

/* Unread bytes per reader wake-up, set at load time; 0 wakes for every
 * event. */
volatile const __u64 wakeup_bytes = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

/* Events the ring had no room for. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} reserve_failures SEC(".maps");

/* Submits size bytes at data to the ring, counting a failure.
 *
 * It wakes the reader each time unread data crosses a multiple of
 * wakeup_bytes, not for every event: a wakeup costs far more than the rest
 * of a program, and the reader drains everything once woken. A crossing
 * missed to a concurrent producer is caught at the next multiple or by the
 * reader's own deadline. */
static __always_inline void ring_output(void *data, __u64 size)
{
	__u64 flags = BPF_RB_FORCE_WAKEUP;
	if (wakeup_bytes) {
		/* The kernel adds an 8-byte header and pads to 8 bytes. */
		__u64 rec = ((size + 7) & ~7ULL) + 8;
		__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
		if (avail / wakeup_bytes == (avail + rec) / wakeup_bytes)
			flags = BPF_RB_NO_WAKEUP;
	}
	if (bpf_ringbuf_output(&events, data, size, flags)) {
		__u32 zero = 0;
		__u64 *n = bpf_map_lookup_elem(&reserve_failures, &zero);
		if (n)
			(*n)++;
	}
}
