package ringbuffer_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/foveanet/fovea/ringbuffer"
)

// TestConcurrentReaders runs one writer against 16 readers on rings so small
// that the writer keeps overtaking them and overwriting slots mid-copy. Every
// entry read must be intact, and each follower must account for every entry
// exactly once, as read or as lost. Run it with -race.
func TestConcurrentReaders(t *testing.T) {
	writes := uint64(200000)
	if testing.Short() {
		writes = 20000
	}
	for _, capacity := range []int{1, 15} {
		r := mustNew[entry](t, capacity)
		const followers, randomReaders = 8, 8
		var (
			wg                      sync.WaitGroup
			done                    atomic.Bool
			read, lost, got, missed atomic.Uint64
		)
		for range followers {
			wg.Go(func() {
				seen, skipped := follow(t, r, writes)
				read.Add(seen)
				lost.Add(skipped)
			})
		}
		for range randomReaders {
			wg.Go(func() {
				var e entry
				for ; !done.Load(); runtime.Gosched() {
					// Aim around the live window, including just
					// outside it on both sides.
					head := r.Head()
					seq := head - min(head, uint64(rand.IntN(capacity+3)))
					switch err := r.Read(seq, &e); {
					case err == nil:
						got.Add(1)
						if err := checkEntry(&e, seq); err != nil {
							t.Errorf("Read(%d): torn entry went undetected: %v", seq, err)
							return
						}
					case errors.Is(err, ringbuffer.ErrOverwritten), errors.Is(err, ringbuffer.ErrNotWritten):
						missed.Add(1)
					default:
						t.Errorf("Read(%d): %v", seq, err)
						return
					}
				}
			})
		}
		for i := range writes {
			e := entryFor(r.Head())
			r.Write(&e)
			if i%16 == 0 {
				runtime.Gosched() // let readers in between writes, not only during them
			}
		}
		done.Store(true)
		wg.Wait()
		t.Logf("capacity %d: %d writes, followers read %d and lost %d, random reads got %d and missed %d",
			capacity, writes, read.Load(), lost.Load(), got.Load(), missed.Load())
	}
}

// follow reads r from the start until it has accounted for writes entries
// and returns how many it read and how many it was told it lost.
func follow(t *testing.T, r *ringbuffer.Ring[entry], writes uint64) (seen, lost uint64) {
	rd := r.NewReader(0)
	var e entry
	want := uint64(0) // next sequence number not yet accounted for
	for want < writes {
		seq, skipped, err := rd.Next(context.Background(), &e, true)
		if err != nil {
			t.Errorf("Next: %v", err)
			return seen, lost
		}
		if seq != want+skipped {
			t.Errorf("Next returned seq %d with %d lost, but %d entries were accounted for", seq, skipped, want)
			return seen, lost
		}
		if err := checkEntry(&e, seq); err != nil {
			t.Errorf("Next(%d): torn entry went undetected: %v", seq, err)
			return seen, lost
		}
		seen, lost, want = seen+1, lost+skipped, seq+1
	}
	if seen+lost != writes {
		t.Errorf("follower read %d and lost %d of %d writes", seen, lost, writes)
	}
	return seen, lost
}
