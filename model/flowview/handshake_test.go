package flowview

import (
	"testing"

	"github.com/foveanet/fovea/model/record"
)

func TestHandshakeSummary(t *testing.T) {
	rec := tcpRecord()
	rec.TCPFlags = record.TCPSyn | record.TCPAck
	rec.Detail = 1234 // microseconds
	var e Flow
	e.Reset(testNode(), &rec, 1)
	if got, want := e.Flow().GetSummary(), "TCP Flags: SYN, ACK; handshake 1.234ms"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	// Without a SYN seen, the flow is Hubble's.
	rec.Detail = 0
	e.Reset(testNode(), &rec, 2)
	if got, want := e.Flow().GetSummary(), "TCP Flags: SYN, ACK"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
}
