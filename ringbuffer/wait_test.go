package ringbuffer_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestWaitReturnsAtOnceForWrittenSeq(t *testing.T) {
	r := mustNew[entry](t, 7)
	writeN(r, 3)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Wait must not even look at ctx when seq is there
	for seq := range uint64(3) {
		if err := r.Wait(ctx, seq); err != nil {
			t.Fatalf("Wait(%d) with head 3 = %v", seq, err)
		}
	}
}

func TestWaitHonoursContext(t *testing.T) {
	r := mustNew[entry](t, 7)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := r.Wait(ctx, 0); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait on empty ring = %v, want DeadlineExceeded", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		var e entry
		_, _, err := r.NewReader(0).Next(ctx, &e, true)
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("following Next after cancel = %v, want Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("following Next did not return after cancel")
	}

	// An abandoned wait must not disturb later ones.
	writeN(r, 1)
	if err := r.Wait(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
}

func TestFollowWakesPromptly(t *testing.T) {
	r := mustNew[entry](t, 7)
	const followers = 4
	woke := make(chan time.Time, followers)
	var started sync.WaitGroup
	for range followers {
		started.Add(1)
		go func() {
			rd := r.NewReader(0)
			started.Done()
			var e entry
			if _, _, err := rd.Next(context.Background(), &e, true); err != nil {
				t.Error(err)
			}
			woke <- time.Now()
		}()
	}
	started.Wait()
	time.Sleep(50 * time.Millisecond) // let them block
	select {
	case <-woke:
		t.Fatal("a follower returned before anything was written")
	default:
	}
	written := time.Now()
	writeN(r, 1)
	for range followers {
		select {
		case at := <-woke:
			// Generous for loaded CI machines and -race; a polling
			// follower or a lost wake-up misses it by far.
			if d := at.Sub(written); d > 200*time.Millisecond {
				t.Errorf("follower woke %v after the write", d)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("follower did not wake after a write")
		}
	}
}

// TestNoLostWakeups races waiters registering against the write they wait
// for, many times over; a lost wake-up leaves a waiter blocked until its
// deadline.
func TestNoLostWakeups(t *testing.T) {
	r := mustNew[entry](t, 3)
	rounds := 20000
	if testing.Short() {
		rounds = 2000
	}
	const waiters = 3
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	for range rounds {
		// Waiting for the next write races registration against it;
		// waiting for the one after also crosses a write that does
		// not satisfy the waiter.
		for i := range waiters {
			seq := r.Head() + uint64(i%2)
			wg.Go(func() {
				if err := r.Wait(ctx, seq); err != nil {
					t.Errorf("Wait(%d): %v (lost wake-up)", seq, err)
				}
			})
		}
		writeN(r, 1)
	}
	writeN(r, 1)
	wg.Wait()
}
