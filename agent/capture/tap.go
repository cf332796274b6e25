package capture

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/foveanet/fovea/agent/endpoints"
	"github.com/foveanet/fovea/api/capture/capturepb"
)

// tap is one interface of a capture: its socket and the reader that feeds
// the capture from it.
type tap struct {
	id    uint32
	link  link
	pod   *endpoints.LocalPod // nil: a host interface
	iface *capturepb.Interface
	sock  socket
	// stop ends the reader, which closes the socket.
	stop   context.CancelFunc
	closed bool // set by the session once the tap is done
	// packets and drops are the socket's counters, which the reader
	// reads, since only it may touch the socket.
	packets, drops atomic.Uint64
}

// packet is a packet a reader read, for the session to order and write.
type packet struct {
	tap    uint32
	at     time.Time
	length int
	data   []byte
}

// tapEnd says a tap's reader ended because its interface went away or
// its socket failed.
type tapEnd struct {
	tap uint32
	err error
}

// statsInterval is how often a reader refreshes its socket's counters.
const statsInterval = 500 * time.Millisecond

// read reads t's socket until ctx ends or the socket fails, sending each
// packet to out once mem has room for its data, and closes the socket.
func (t *tap) read(ctx context.Context, snap uint32, out chan<- packet, mem *semaphore.Weighted, ended chan<- tapEnd) {
	defer func() {
		t.refreshStats()
		_ = t.sock.close()
	}()
	buf := make([]byte, snap)
	lastStats := time.Now()
	for ctx.Err() == nil {
		if time.Since(lastStats) >= statsInterval {
			t.refreshStats()
			lastStats = time.Now()
		}
		info, err := t.sock.read(buf)
		if errors.Is(err, errNoPacket) {
			continue
		}
		if err != nil {
			select {
			case ended <- tapEnd{tap: t.id, err: err}:
			case <-ctx.Done():
			}
			return
		}
		data := make([]byte, info.captured)
		copy(data, buf)
		if mem.Acquire(ctx, int64(len(data))) != nil {
			return
		}
		select {
		case out <- packet{tap: t.id, at: info.at, length: info.length, data: data}:
		case <-ctx.Done():
			mem.Release(int64(len(data)))
			return
		}
	}
}

func (t *tap) refreshStats() {
	p, d := t.sock.stats()
	t.packets.Store(p)
	t.drops.Store(d)
}
