package observer

import (
	"context"
	"errors"
	"fmt"

	"github.com/foveanet/fovea/model/record"
)

// Ring is the part of the agent's ring buffer the observer reads;
// *ringbuffer.Ring[record.Record] satisfies it. Sequence numbers grow
// forever: Head is the next one to be written and Tail the oldest still held.
type Ring interface {
	Cap() uint64
	Len() uint64
	Head() uint64
	Tail() uint64
	// Read copies the record at seq into dst, failing once it has been
	// overwritten or before it has been written.
	Read(seq uint64, dst *record.Record) error
	// Wait returns once Head() > seq or ctx is done.
	Wait(ctx context.Context, seq uint64) error
}

// errCaughtUp means a cursor has read every record written so far.
var errCaughtUp = errors.New("caught up with the ring head")

// cursor walks a ring forward. Records overwritten before the cursor reached
// them are skipped and reported as lost, so a slow reader never stalls the
// writer.
type cursor struct {
	ring Ring
	seq  uint64
}

// next reads the record at the cursor into dst and advances. lost counts the
// records skipped because the writer overtook the cursor; it may be non-zero
// even when err is errCaughtUp.
func (c *cursor) next(dst *record.Record) (seq, lost uint64, err error) {
	for {
		if c.seq >= c.ring.Head() {
			return 0, lost, errCaughtUp
		}
		if tail := c.ring.Tail(); c.seq < tail {
			lost += tail - c.seq
			c.seq = tail
			continue
		}
		if err := c.ring.Read(c.seq, dst); err != nil {
			// The writer may have lapped us between the checks and the read;
			// the loop then counts the loss.
			if c.seq < c.ring.Tail() {
				continue
			}
			return 0, lost, fmt.Errorf("read ring record %d: %w", c.seq, err)
		}
		seq = c.seq
		c.seq++
		return seq, lost, nil
	}
}
