package observer

import (
	"time"

	"github.com/foveanet/fovea/model/record"
)

// rateWindow is the span ServerStatus.flows_rate averages over.
const rateWindow = time.Minute

// flowRate returns the flows per second written to ring during the minute
// before now. When the ring holds less than that minute, the rate is taken
// over the span it does hold. Lost-event notices in the window count as
// flows: they are rare, and telling them apart would mean reading the whole
// window.
func flowRate(ring Ring, now time.Time) float64 {
	head, tail := ring.Head(), ring.Tail()
	from := searchTime(ring, tail, head, now.Add(-rateWindow).UnixNano())
	count := head - from
	window := rateWindow
	// Only a ring that has dropped records can be missing part of the minute.
	var oldest record.Record
	if from == tail && tail > 0 && count > 0 && ring.Read(from, &oldest) == nil {
		if held := now.Sub(time.Unix(0, oldest.Time)); held > 0 && held < rateWindow {
			window = held
		}
	}
	return float64(count) / window.Seconds()
}
