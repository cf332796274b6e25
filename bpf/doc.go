// Package bpf owns the Linux capture datapath: the tc/tcx eBPF program in
// c/ (compiled by bpf2go into the committed capture_bpf*.{go,o}), its
// attachment to host interfaces, and the Source that reads the program's
// ring buffer and turns each raw event into a record.Record.
//
// The program parses Ethernet (one VLAN tag), IPv4, IPv6 (extension
// headers), TCP, UDP, SCTP and ICMP, decides from a small connection table
// whether a packet is a reply, and writes one fixed-size event per packet.
// It never changes a packet's fate.
//
// Attachments use tcx links, owned by the process, so nothing outlives a
// killed agent. On kernels without tcx they fall back to tc clsact filters,
// which do outlive it: those carry a recognisable name and are removed at
// start and on exit.
//
// The raw event layout is defined once in c/capture.h and decoded by the
// pure function Decode, which runs and is tested on every platform; loading
// and attaching programs is Linux-only.
package bpf
