/* Layouts shared between the programs and their Go decoder (bpf/event.go).
 * bpf2go generates Go's struct event and struct snippet from here (make
 * generate); the EV_* and DIR_* values are mirrored by hand in event.go. */
#pragma once

/* Direction of the attachment an event was seen at. */
#define DIR_INGRESS 0
#define DIR_EGRESS 1

/* event.flags */
#define EV_L4 (1 << 0)          /* ports / ICMP fields are valid */
#define EV_REPLY_KNOWN (1 << 1) /* connection tracking classified it */
#define EV_REPLY (1 << 2)       /* packet travels against its connection */
/* At most one of the next three: without any, a packet seen by capture.c. */
#define EV_DROP (1 << 3)        /* the kernel freed the packet as a drop */
#define EV_RETRANSMIT (1 << 4)  /* TCP retransmitted the segment */
#define EV_SNIPPET (1 << 5)     /* a packet whose L4 payload follows */
/* EV_DROP, EV_RETRANSMIT: it happened in a pod's namespace (netns_watch),
 * not the source's own, so ifindex is not one of the source's. */
#define EV_POD_NS (1 << 6)
/* The event describes a packet that was otherwise on the wire: the inner
 * packet of a tunnel, or a packet before its source was translated;
 * struct wire_event carries how it was. */
#define EV_WIRE (1 << 7)

/* Most L4 payload bytes an EV_SNIPPET event carries. */
#define SNIPPET_MAX 512

#define EV_FAMILY_IPV4 4
#define EV_FAMILY_IPV6 6

/* One observed packet; 64 bytes, host byte order except addresses. An
 * EV_SNIPPET event is followed by up to SNIPPET_MAX bytes of L4 payload: the
 * ring record's length says how many. */
struct event {
	__u64 ktime;     /* bpf_ktime_get_boot_ns() */
	__u8 saddr[16];  /* network order; IPv4 in the first 4 bytes */
	__u8 daddr[16];
	__u32 ifindex;
	__u32 len;       /* skb->len */
	__u16 sport;
	__u16 dport;
	__u16 tcp_flags; /* FIN..CWR in bits 0-7, NS in bit 8 */
	__u8 proto;      /* IANA protocol of the L4 header */
	__u8 family;     /* EV_FAMILY_* */
	__u8 dir;        /* DIR_*; of a drop: DIR_INGRESS when a device had
			  * received the packet, DIR_EGRESS when a local
			  * socket had sent it */
	__u8 flags;      /* EV_* */
	__u8 icmp_type;
	__u8 icmp_code;
	union {
		__u32 reason;       /* EV_DROP: enum skb_drop_reason */
		__u32 packets;      /* other packet events: packets the report
				     * stands for (len is their byte total); 0
				     * means 1 */
		__u32 handshake_us; /* a packet event of a TCP SYN-ACK (SYN and
				     * ACK set): microseconds since the latest SYN
				     * of its connection was seen on this node, 0
				     * when none was; it stands for itself alone */
	};
};

_Static_assert(sizeof(struct event) == 64, "event must stay 64 bytes");

/* How an EV_WIRE packet was on the wire (struct wire.kind). */
#define WIRE_VXLAN 1
#define WIRE_GENEVE 2
#define WIRE_IPIP 3 /* IPv4 or IPv6 directly inside IPv4 or IPv6 */
#define WIRE_SNAT 4 /* its source address and port were translated */

/* The wire's view of an EV_WIRE packet. For a tunnel: the outer addresses,
 * UDP ports and VNI. For WIRE_SNAT: saddr and sport as translated, the
 * rest zero. */
struct wire {
	__u8 saddr[16]; /* network order; IPv4 in the first 4 bytes */
	__u8 daddr[16];
	__u32 vni;      /* VXLAN or Geneve network identifier */
	__u16 sport;
	__u16 dport;
	__u8 kind;      /* WIRE_* */
	__u8 family;    /* EV_FAMILY_* of saddr and daddr */
	__u8 _pad[6];
};

/* An EV_WIRE event: the packet's event, then the wire's view. */
struct wire_event {
	struct event ev;
	struct wire wire;
};

_Static_assert(sizeof(struct wire_event) == 112, "wire_event must stay 112 bytes");

/* Most UDP ports the capture program decapsulates. */
#define MAX_TUNNEL_PORTS 8

/* A UDP destination port carrying a tunnel; port 0 ends the list. */
struct tunnel_port {
	__u16 port;
	__u8 kind; /* WIRE_VXLAN or WIRE_GENEVE */
	__u8 _pad;
};
