// Package bpf owns the Linux datapath: the eBPF programs in c/ (compiled by
// bpf2go into the committed capture_bpf*.{go,o} and trace_bpf*.{go,o}),
// their attachment, and the Source that reads their shared ring buffer and
// turns each raw event into a record.Record.
//
// The tc/tcx capture program parses Ethernet (one VLAN tag), IPv4, IPv6
// (extension headers), TCP, UDP, SCTP and ICMP, decides from a small
// connection table whether a packet is a reply, and writes fixed-size events
// to the ring: by default one per connection, interface and direction for
// its first packet, each new TCP flag, SYN/FIN/RST and once per
// Config.AggregationInterval, each counting the packets and bytes since the
// last (Config.Aggregation, Config.SampleRate), or one per packet. It also
// counts every packet per interface and direction in per-CPU counters
// (Source.ForwardCounts, the fovea_forward_* metrics). For packets on
// Config.DNSPorts, and TCP segments whose payload starts an HTTP/1.x message
// (Config.HTTPRate per CPU and second; c/http.h), always reported, it
// appends the TCP sequence number, the payload length and up to SnippetMax
// bytes of L4 payload, which the Source hands to an L7Parser. It never
// changes a packet's fate.
//
// The trace programs attach as BTF tracepoints to skb:kfree_skb (packets
// the kernel drops, with its enum skb_drop_reason, whose names are read
// from kernel BTF at start) and tcp:tcp_retransmit_skb, and report only
// what happens in the Source's own network namespace and in those of the
// pods behind its veths. docs/datapath.md describes how each becomes a
// Hubble flow.
//
// Attachments use tcx links, owned by the process, so nothing outlives a
// killed agent. On kernels without tcx they fall back to tc clsact filters,
// which do outlive it: those carry a recognisable name and are removed at
// start and on exit.
//
// The raw event layout is defined once, in c/capture.h; bpf2go generates
// its Go view (captureEvent), which the pure function Decode reads in place
// and checks into a KernelEvent. Decode runs and is tested on every
// platform; loading and attaching programs is Linux-only.
package bpf
