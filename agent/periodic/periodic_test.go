package periodic

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestRunCallsEveryIntervalFromOneIntervalOn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		var calls atomic.Int32
		done := make(chan error)
		go func() { done <- Run(ctx, 10*time.Second, func() error { calls.Add(1); return nil }) }()
		for _, want := range []int32{0, 1, 2} {
			time.Sleep(5 * time.Second) // halfway through an interval
			synctest.Wait()
			if n := calls.Load(); n != want {
				t.Fatalf("%v in: %d calls, want %d", time.Duration(want)*10*time.Second+5*time.Second, n, want)
			}
			time.Sleep(5 * time.Second)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run returned %v when its context ended", err)
		}
	})
}

func TestRunEndsWithTheFirstError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		failed := errors.New("failed")
		calls := 0
		err := Run(t.Context(), time.Second, func() error {
			if calls++; calls == 2 {
				return failed
			}
			return nil
		})
		if !errors.Is(err, failed) || calls != 2 {
			t.Fatalf("Run returned %v after %d calls, want %v after 2", err, calls, failed)
		}
	})
}
