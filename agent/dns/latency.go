package dns

import (
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/foveanet/fovea/model/record"
)

// queryKey identifies a query by its client end, transport and message ID,
// which its response repeats with the ends swapped.
type queryKey struct {
	client [16]byte
	port   uint16
	id     uint16
	proto  uint8
}

// queries remembers when recent queries were seen, for the latency of their
// responses. Entries stay until evicted (least recently seen first): the
// same message is observed at several points on its path, and each copy of
// the response should get the latency.
type queries struct {
	lru *simplelru.LRU[queryKey, int64]
}

func newQueries(capacity int) (*queries, error) {
	lru, err := simplelru.NewLRU[queryKey, int64](capacity, nil)
	if err != nil {
		return nil, err
	}
	return &queries{lru: lru}, nil
}

// retryWindow is how long the first sighting of a query stands: later
// copies (other observation points, client retries) keep its time, so the
// latency is what the client waited. After it, a query reusing port and ID
// is a new one.
const retryWindow = int64(10 * time.Second)

// request records the query r carries (r.Src is the client).
func (q *queries) request(r *record.Record, id uint16) {
	k := queryKey{client: r.Src, port: r.SrcPort, id: id, proto: r.Proto}
	if t, ok := q.lru.Peek(k); ok && r.Time >= t && r.Time-t < retryWindow {
		return
	}
	q.lru.Add(k, r.Time)
}

// latency returns the time from the query to the response r carries (r.Dst
// is the client), or 0 if the query was not seen.
func (q *queries) latency(r *record.Record, id uint16) uint64 {
	t, ok := q.lru.Get(queryKey{client: r.Dst, port: r.DstPort, id: id, proto: r.Proto})
	if !ok || r.Time < t {
		return 0
	}
	return uint64(r.Time - t)
}
