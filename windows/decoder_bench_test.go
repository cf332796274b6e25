package windows

import (
	"testing"

	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
)

// BenchmarkDecode decodes the fixture scenario's events (packets seen at
// several components, drops, a lost notice, ARP) as the session's callback
// does, reporting the cost per ETW event.
func BenchmarkDecode(b *testing.B) {
	var lap []Event
	if err := ReadStream(readFixture(b, "pktmon.etw"), func(ev Event) error {
		lap = append(lap, ev)
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	// Laps with new packet groups, more than the dedupe window holds, so
	// that it sees distinct packets as on a live node.
	const laps = 4096
	events := make([]Event, 0, laps*len(lap))
	for l := range laps {
		for _, ev := range lap {
			if ev.Provider == PktMonProvider && len(ev.UserData) >= pktmonFixedSize {
				ud := append([]byte(nil), ev.UserData...)
				ud[pktGroupIDOff+4], ud[pktGroupIDOff+5] = byte(l), byte(l>>8)
				ev.UserData = ud
			}
			events = append(events, ev)
		}
	}
	d := NewDecoder(intern.NewTables(), fixtureEndpoints(b), fixtureComponents(b))
	emitted := 0
	handle := d.Handler(func(*record.Record) { emitted++ })
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		handle(events[i%len(events)])
	}
	b.ReportMetric(float64(emitted)/float64(b.N), "records/event")
}
