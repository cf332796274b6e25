package export

import (
	"context"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	observerpb "github.com/cilium/cilium/api/v1/observer"
)

// runManager runs m until the test ends.
func runManager(t *testing.T, m *Manager) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = m.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// summarize names each event of a log: "flow <source port>", "lost <n>",
// "status <state>".
func summarize(rs []*observerpb.GetFlowsResponse) []string {
	var out []string
	for _, r := range rs {
		switch {
		case r.GetFlow() != nil:
			out = append(out, "flow "+strconv.Itoa(int(r.GetFlow().GetL4().GetTCP().GetSourcePort())))
		case r.GetLostEvents() != nil:
			l := r.GetLostEvents()
			out = append(out, "lost "+l.GetSource().String()+" "+strconv.FormatUint(l.GetNumEventsLost(), 10))
		case r.GetNodeStatus() != nil:
			out = append(out, "status "+r.GetNodeStatus().GetStateChange().String())
		}
	}
	return out
}

// waitLog waits until the log at path holds at least n events and returns
// them.
func waitLog(t *testing.T, path string, n int) []*observerpb.GetFlowsResponse {
	t.Helper()
	var rs []*observerpb.GetFlowsResponse
	eventually(t, "the log holds "+strconv.Itoa(n)+" events", func() bool {
		rs = readLogFile(t, path)
		return len(rs) >= n
	})
	return rs
}

// TestFileLogWritesWhatHubbleReads exports flows through an allow list, a
// deny list and a field mask, an upstream loss and node statuses, and
// reads the file as the hubble CLI reads --input-file.
func TestFileLogWritesWhatHubbleReads(t *testing.T) {
	e := newEnv(t, 1023)
	m := NewManager(e.ring, e.node)
	path := filepath.Join(t.TempDir(), "flows.log")
	allow, err := ParseFilters(`{"destination_port":["80"]}` + "\n" + `{"source_port":["3"]}`)
	if err != nil {
		t.Fatal(err)
	}
	deny, err := ParseFilters(`{"source_port":["4"]}`)
	if err != nil {
		t.Fatal(err)
	}
	spec := Spec{Name: "static", FilePath: path, IncludeFilters: allow, ExcludeFilters: deny,
		FieldMask: []string{"time", "l4.TCP.source_port", "node_name"}}
	if err := m.AddLog(spec); err != nil {
		t.Fatal(err)
	}
	runManager(t, m)
	// The follower starts at the head: wait for it to say it started, so
	// that it is running before the records are written.
	waitLog(t, path, 1)
	e.write(8) // ports 0-7: 0, 2, 4, 6 go to 80 but 4 is denied; 3 is allowed by port
	e.writeLost(7)

	want := []string{"status NODE_CONNECTED", "flow 0", "flow 2", "flow 3", "flow 6", "lost PERF_EVENT_RING_BUFFER 7"}
	rs := waitLog(t, path, len(want))
	if got := summarize(rs); !slices.Equal(got, want) {
		t.Fatalf("log holds %q, want %q", got, want)
	}
	for _, r := range rs {
		f := r.GetFlow()
		if f == nil {
			continue
		}
		if f.GetIP() != nil || f.GetL4().GetTCP().GetDestinationPort() != 0 || f.GetTime() == nil {
			t.Errorf("field mask not applied: %v", f)
		}
		if r.GetNodeName() != "kind/node-1" || !r.GetTime().AsTime().Equal(f.GetTime().AsTime()) {
			t.Errorf("envelope (%s, %v) does not match the flow %v", r.GetNodeName(), r.GetTime(), f)
		}
	}
}
