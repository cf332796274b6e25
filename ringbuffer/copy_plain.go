//go:build amd64 && !race

package ringbuffer

import (
	"sync/atomic"
	"unsafe"
)

// On amd64 without the race detector slots are copied with plain moves.
// A reader may copy a slot while the writer overwrites it; that is a data
// race by the letter of the Go memory model (and the race detector would
// say so), yet harmless here: T holds no pointers, the gc compiler keeps
// stores in program order and keeps loads on their side of the reader's
// sync/atomic loads, and x86 keeps stores in order and loads in order
// (TSO). So a reader that saw any new word also sees the slot's new sequence
// number and discards its copy. copy_atomic.go runs the same algorithm
// where these guarantees are absent, and under the race detector.

// markSlot stores the sequence number of the write that is about to
// overwrite a slot. A plain store is enough: x86 makes stores visible in
// program order, so the new number is visible before any word of the new
// value, and it saves Write a locked instruction (head.Store still is one,
// which the wake-up protocol needs).
func markSlot(seq *atomic.Uint64, v uint64) { *(*uint64)(unsafe.Pointer(seq)) = v }

// storeEntry copies *src into the slot value *dst.
func storeEntry[T any](dst, src *T) { *dst = *src }

// loadEntry copies the slot value *src into *dst.
func loadEntry[T any](dst, src *T) { *dst = *src }
