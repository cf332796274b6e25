package relay

import (
	"math/rand/v2"
	"time"
)

// backoff computes exponentially growing, jittered retry delays.
type backoff struct {
	base, max time.Duration
}

func newBackoff(base, max time.Duration) backoff {
	if max < base {
		max = base
	}
	return backoff{base: base, max: max}
}

// delay is the wait before retry number attempt (0 first): base doubling
// each time up to max, with ±20 % jitter so peers do not retry in step.
func (b backoff) delay(attempt int) time.Duration {
	d := b.base
	for i := 0; i < attempt && d < b.max; i++ {
		d *= 2
	}
	d = min(d, b.max)
	jitter := 0.8 + 0.4*rand.Float64()
	return time.Duration(float64(d) * jitter)
}
