package periodic

import (
	"context"
	"time"
)

// Run calls fn every interval until ctx ends, then returns nil; an error
// from fn ends Run and is returned. The first call comes one interval after
// Run starts: work needed at once is done by the caller before, where its
// failure can still stop the start. A call that overruns the interval
// delays the next one rather than queueing calls. every must be positive
// (callers validate it with the rest of their configuration).
func Run(ctx context.Context, every time.Duration, fn func() error) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := fn(); err != nil {
			return err
		}
	}
}
