package policy

import (
	"sync/atomic"
	"time"
)

// maxConns bounds the connections whose verdict was reported.
const maxConns = 1 << 16

// connTTL is how long a connection direction's verdict stands: a packet of
// the same addresses, ports and protocol within it belongs to the same
// connection (a retransmitted SYN, a UDP exchange's periodic report), one
// after it is reported again. It matches the datapath's default report
// interval.
const connTTL = 30 * time.Second

type connKey struct {
	src, dst     [16]byte
	sport, dport uint16
	proto        uint8
	dir          Direction
	// verdict is the reported flow.Verdict: a connection first delivered
	// then dropped (an enforcer started) is reported both ways.
	verdict uint8
}

// conns remembers the connection directions whose verdict was reported,
// so each is reported once: only the writer goroutine touches it.
type conns struct {
	m map[connKey]int64 // expiry, Unix nanoseconds
	// overflows counts the times the table was full of live entries and
	// started over; their connections may be reported again.
	overflows atomic.Uint64
}

func newConns() *conns { return &conns{m: make(map[connKey]int64)} }

// seen reports whether k was reported within connTTL of now, and counts
// it reported from now on if not.
func (c *conns) seen(k connKey, now int64) bool {
	if exp, ok := c.m[k]; ok && exp > now {
		return true
	}
	if len(c.m) >= maxConns {
		c.expire(now)
	}
	c.m[k] = now + int64(connTTL)
	return false
}

func (c *conns) expire(now int64) {
	for k, exp := range c.m {
		if exp <= now {
			delete(c.m, k)
		}
	}
	if len(c.m) >= maxConns {
		clear(c.m)
		c.overflows.Add(1)
	}
}
