package bpf

// The objects are built for both byte orders; raw events are decoded in
// host order (see Decode), so each matches its hosts. c/include/vmlinux.h
// comes from `bpftool btf dump file /sys/kernel/btf/vmlinux format c`. The
// capture program takes only UAPI definitions (struct __sk_buff, BPF flags)
// from it and reads packet headers byte by byte, so no bitfield layout
// depends on the host; the trace programs read kernel structures (sk_buff,
// sock, net) through CO-RE relocations, resolved against the running
// kernel's BTF at load.
//
// -type gives Go the raw event (captureEvent, captureSnippet, from
// c/capture.h) and the forward counters' key and value (captureFwdKey,
// captureFwdVal, from c/counters.h), so Go never restates their layout: a
// field renamed or retyped in C breaks the build, a moved one is followed. trace.c writes
// the same struct event from the same header, so only capture emits it;
// trace gives the tally of drops it leaves unreported (traceDropTally).
// A decapsulated or source-translated packet's event is a
// captureWireEvent, and the tunnel ports are set as captureTunnelPort
// values. Tests read the per-CPU aggregation slots as captureAggSlot.
//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror" -target bpfel,bpfeb -no-global-types -type event -type snippet -type wire_event -type tunnel_port -type fwd_key -type fwd_val -type agg_slot capture c/capture.c -- -Ic/include
//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror" -target bpfel,bpfeb -no-global-types -type drop_tally trace c/trace.c -- -Ic/include
