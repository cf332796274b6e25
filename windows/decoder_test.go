package windows

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// fixtureEndpoints are the HNS endpoints of testdata/hns_endpoints.json.
func fixtureEndpoints(t testing.TB) *Endpoints {
	t.Helper()
	var raw []json.RawMessage
	if err := json.Unmarshal(readFixture(t, "hns_endpoints.json"), &raw); err != nil {
		t.Fatal(err)
	}
	eps := make([]Endpoint, 0, len(raw))
	for _, r := range raw {
		ep, err := ParseEndpoint(r)
		if err != nil {
			t.Fatal(err)
		}
		eps = append(eps, ep)
	}
	e := new(Endpoints)
	e.Set(eps)
	return e
}

// fixtureComponents are the PktMon components of testdata/pktmon_list.json.
func fixtureComponents(t testing.TB) *Components {
	t.Helper()
	comps, err := ParseComponentList(readFixture(t, "pktmon_list.json"))
	if err != nil {
		t.Fatal(err)
	}
	c := new(Components)
	c.Set(comps)
	return c
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// describe renders a record as one line: what a flow of it shows.
func describe(tables *intern.Tables, r *record.Record) string {
	var b strings.Builder
	switch r.Kind {
	case record.KindLost:
		fmt.Fprintf(&b, "lost count=%d source=%s", r.Count, flowpb.LostEventSource(r.LostSource))
		return b.String()
	case record.KindTrace:
		fmt.Fprintf(&b, "trace %s %s", flowpb.Verdict(r.Verdict), flowpb.TraceObservationPoint(r.ObsPoint))
	case record.KindDrop:
		dir := "ingress"
		if r.Flags&record.FlagSent != 0 {
			dir = "egress"
		}
		fmt.Fprintf(&b, "drop %s %s %s pktmon=%d %v", flowpb.Verdict(r.Verdict), dir, flowpb.DropReason(r.DropReason), r.Detail, tables.Names.Get(r.Ext))
	}
	fmt.Fprintf(&b, " %s:%d -> %s:%d proto=%d tcp=%#x icmp=%d/%d bytes=%d time=%d",
		r.SrcAddr(), r.SrcPort, r.DstAddr(), r.DstPort, r.Proto, r.TCPFlags, r.ICMPType, r.ICMPCode, r.Bytes, r.Time)
	if iface := tables.Interfaces.Get(r.Iface); iface != nil {
		fmt.Fprintf(&b, " iface=%d/%q", iface.GetIndex(), iface.GetName())
	}
	return b.String()
}

// TestDecodeFixture decodes the node scenario of testdata/pktmon.etw (see
// internal/genfixtures) and compares every record with the golden file.
func TestDecodeFixture(t *testing.T) {
	tables := intern.NewTables()
	d := NewDecoder(tables, fixtureEndpoints(t), fixtureComponents(t))
	var got strings.Builder
	err := ReadStream(readFixture(t, "pktmon.etw"), func(ev Event) error {
		var rec record.Record
		if d.Decode(ev, &rec) {
			got.WriteString(describe(tables, &rec) + "\n")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	const golden = "testdata/pktmon.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want := string(readFixture(t, "pktmon.golden")); got.String() != want {
		t.Errorf("decoded records differ from %s (go test -update rewrites it)\n got:\n%s\nwant:\n%s", golden, got.String(), want)
	}
	// Every event is accounted for: 18 PktMon events read, 12 records
	// besides the lost notice, the rest dropped by reason.
	for _, c := range []struct {
		metric, labels string
		want           float64
	}{
		{"windows_events_read_total", "packet", 15},
		{"windows_events_read_total", "drop", 3},
		{"windows_events_dropped_total", dropReasonDuplicate, 4},
		{"windows_events_dropped_total", dropReasonTunnel, 1},
		{"windows_events_dropped_total", dropReasonNotIP, 1},
		{"windows_etw_lost_total", "events", 1},
	} {
		if got := counterValue(t, d, c.metric, c.labels); got != c.want {
			t.Errorf("%s{%s} = %v, want %v", c.metric, c.labels, got, c.want)
		}
	}
}

func counterValue(t *testing.T, d *Decoder, name, label string) float64 {
	t.Helper()
	mfs, err := gatherer(d).Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == label {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no %s{%s}", name, label)
	return 0
}

func TestDecoderCollectorLints(t *testing.T) {
	problems, err := testutil.CollectAndLint(NewDecoder(intern.NewTables(), new(Endpoints), new(Components)).Collector())
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 {
		t.Errorf("lint: %v", problems)
	}
}

func TestDecodeRejects(t *testing.T) {
	d := NewDecoder(intern.NewTables(), new(Endpoints), new(Components))
	var rec record.Record
	for _, tc := range []struct {
		name   string
		ev     Event
		reason string
	}{
		{"other provider", Event{Provider: MustParseGUID("{00000000-0000-0000-0000-000000000001}")}, dropReasonProvider},
		{"component event", Event{Provider: PktMonProvider, ID: 20}, dropReasonEventID},
		{"lost opcode", Event{Provider: LostEventProvider, Opcode: 1}, dropReasonEventID},
		{"short payload", Event{Provider: PktMonProvider, ID: EventPacket, UserData: make([]byte, 33)}, dropReasonMalformed},
		{"version 1", Event{Provider: PktMonProvider, ID: EventPacket, Version: 1, UserData: make([]byte, 34)}, dropReasonVersion},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := counterValue(t, d, "windows_events_dropped_total", tc.reason)
			if d.Decode(tc.ev, &rec) {
				t.Fatalf("decoded %+v", rec)
			}
			if got := counterValue(t, d, "windows_events_dropped_total", tc.reason); got != before+1 {
				t.Errorf("windows_events_dropped_total{%s} %v → %v, want one more", tc.reason, before, got)
			}
		})
	}
}

// FuzzDecodeStream feeds arbitrary bytes through the stream reader and the
// decoder: nothing may panic, and every record must be well-formed.
func FuzzDecodeStream(f *testing.F) {
	f.Add(readFixture(f, "pktmon.etw"))
	tables := intern.NewTables()
	f.Fuzz(func(t *testing.T, b []byte) {
		d := NewDecoder(tables, new(Endpoints), new(Components))
		_ = ReadStream(b, func(ev Event) error {
			var rec record.Record
			if !d.Decode(ev, &rec) {
				return nil
			}
			switch rec.Kind {
			case record.KindTrace, record.KindDrop, record.KindLost:
			default:
				t.Fatalf("record kind %d", rec.Kind)
			}
			return nil
		})
	})
}
