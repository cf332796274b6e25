package observer

import (
	"sort"

	"github.com/foveanet/fovea/model/record"
)

// searchTime returns the first sequence number in [tail, head) whose record
// happened at or after t (Unix nanoseconds), or head if none did. Records
// are written in time order, so a binary search finds it without reading
// the whole ring; a record overwritten during the search counts as older.
func searchTime(ring Ring, tail, head uint64, t int64) uint64 {
	var rec record.Record
	i := sort.Search(int(head-tail), func(i int) bool {
		return ring.Read(tail+uint64(i), &rec) == nil && rec.Time >= t
	})
	return tail + uint64(i)
}
