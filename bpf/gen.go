package bpf

// The object is built for both byte orders; raw events are decoded in host
// order (see Decode), so each matches its hosts. c/include/vmlinux.h comes
// from `bpftool btf dump file /sys/kernel/btf/vmlinux format c`; the program
// takes only UAPI definitions (struct __sk_buff, BPF flags) from it and reads
// packet headers byte by byte, so no bitfield layout depends on the host.
//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror" -target bpfel,bpfeb -no-global-types capture c/capture.c -- -Ic/include
