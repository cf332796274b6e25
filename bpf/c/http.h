/* The HTTP/1.x test of the capture program: a TCP segment whose payload
 * starts an HTTP request (a method token and a space) or response
 * ("HTTP/1."), or the HTTP/2 connection preface, goes to the L7 parser with
 * its first bytes, like a DNS packet. Every other TCP segment with payload
 * pays one load of its data offset, one of its first eight bytes and a
 * range check; segments without payload, the first load only. Included by
 * capture.c after load(). */
#pragma once

/* HTTP snippets each CPU may send per second, set at load time; 0 turns
 * the test off. */
volatile const __u32 http_rate = 0;

#define NSEC_PER_SEC 1000000000ULL
#define TCP_FLAG_SYN 0x02

/* One CPU's snippets in the current one-second window. */
struct http_window {
	__u64 start; /* bpf_ktime_get_coarse_ns() */
	__u64 sent;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct http_window);
} http_windows SEC(".maps");

/* The interfaces whose HTTP is reported: pods' own (role endpoint), kept
 * by the agent. The same message at the uplink or a tunnel device would
 * only spend the rate and the ring, since flows come from the pods' side. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);   /* ifindex */
	__type(value, __u8);  /* unused */
} http_ifaces SEC(".maps");

/* HTTP heads not sent because their CPU had sent http_rate this second. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} http_refused SEC(".maps");

/* Four characters as the big-endian word they are on the wire. */
#define HTTP_TOK(a, b, c, d) ((__u32)(a) << 24 | (__u32)(b) << 16 | (__u32)(c) << 8 | (__u32)(d))

/* Reports whether w, the first eight payload bytes read big-endian, start
 * an HTTP/1.x request or response or the HTTP/2 preface ("PRI * HTTP/2.0"),
 * which the parser counts and skips. */
static __always_inline int http_token(__u64 w)
{
	__u32 hi = w >> 32, lo = (__u32)w;

	/* Every token starts with an upper-case letter from C to T: a TLS
	 * record (0x14-0x17) or binary protocol stops here. */
	if ((__u8)((hi >> 24) - 'C') > 'T' - 'C')
		return 0;
	switch (hi) {
	case HTTP_TOK('G', 'E', 'T', ' '):
	case HTTP_TOK('P', 'U', 'T', ' '):
		return 1;
	case HTTP_TOK('P', 'O', 'S', 'T'):
	case HTTP_TOK('H', 'E', 'A', 'D'):
		return (lo >> 24) == ' ';
	case HTTP_TOK('P', 'A', 'T', 'C'):
		return (lo >> 16) == ('H' << 8 | ' ');
	case HTTP_TOK('T', 'R', 'A', 'C'):
		return (lo >> 16) == ('E' << 8 | ' ');
	case HTTP_TOK('D', 'E', 'L', 'E'):
		return (lo >> 8) == ('T' << 16 | 'E' << 8 | ' ');
	case HTTP_TOK('H', 'T', 'T', 'P'):
		return (lo >> 8) == ('/' << 16 | '1' << 8 | '.');
	case HTTP_TOK('O', 'P', 'T', 'I'):
		return lo == HTTP_TOK('O', 'N', 'S', ' ');
	case HTTP_TOK('C', 'O', 'N', 'N'):
		return lo == HTTP_TOK('E', 'C', 'T', ' ');
	case HTTP_TOK('P', 'R', 'I', ' '):
		return lo == HTTP_TOK('*', ' ', 'H', 'T');
	}
	return 0;
}

/* Takes one of this CPU's snippets for the current second, counting a
 * refusal when none is left. */
static __always_inline int http_allow(void)
{
	__u32 zero = 0;
	struct http_window *w = bpf_map_lookup_elem(&http_windows, &zero);
	if (!w)
		return 0;
	__u64 now = bpf_ktime_get_coarse_ns();
	if (now - w->start >= NSEC_PER_SEC) {
		w->start = now;
		w->sent = 0;
	}
	if (w->sent < http_rate) {
		w->sent++;
		return 1;
	}
	__u64 *n = bpf_map_lookup_elem(&http_refused, &zero);
	if (n)
		(*n)++;
	return 0;
}

/* Reports whether the packet of ev, whose L4 header is at l4off, is a TCP
 * segment (not a SYN) whose payload starts an HTTP message, seen at a pod's
 * interface, and may be sent this second: its snippet is then reported like
 * a DNS packet's. */
static __always_inline int http_head(struct __sk_buff *skb, const struct event *ev, __u32 l4off)
{
	__u8 doff;
	__u64 w;

	if (!http_rate || ev->proto != IPPROTO_TCP || (ev->tcp_flags & TCP_FLAG_SYN))
		return 0;
	if (load(skb, l4off + 12, &doff, 1))
		return 0;
	__u32 off = l4off + (doff >> 4) * 4;
	if (off + sizeof(w) > skb->len || load(skb, off, &w, sizeof(w)))
		return 0;
	return http_token(bpf_be64_to_cpu(w)) && bpf_map_lookup_elem(&http_ifaces, &ev->ifindex) && http_allow();
}
