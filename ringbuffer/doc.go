// Package ringbuffer owns Ring, the fixed-capacity buffer in which the agent
// keeps its most recent events for Hubble clients to read.
//
// A Ring has one writer and any number of concurrent readers. Every write gets
// the next sequence number; a reader addresses entries by sequence number, so
// it can tell exactly how many entries it missed when the writer overtook it.
// The newest entry is readable as soon as Write returns.
//
// Entries are values of a fixed-size, pointer-free type copied into
// preallocated slots, so writing costs no allocation and a full ring costs the
// garbage collector nothing to scan. Readers never lock: each slot is guarded
// seqlock-style by the sequence number it holds, which the writer changes
// before it starts overwriting the slot, and a reader that sees it change
// during its copy discards the copy and reports the entry as overwritten.
//
// Readers that have caught up with the writer block in Wait until the next
// write; the writer pays for a wake-up only while someone is waiting.
package ringbuffer
