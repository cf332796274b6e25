package export

import (
	"bufio"
	"bytes"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	observerpb "github.com/cilium/cilium/api/v1/observer"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
	"github.com/foveanet/fovea/ringbuffer"
)

// base is the time of the first record tests write; record i is i
// milliseconds later.
var base = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

type env struct {
	t    testing.TB
	ring *ringbuffer.Ring[record.Record]
	node *flowview.Node
	next int
}

func newEnv(t testing.TB, capacity int) *env {
	t.Helper()
	ring, err := ringbuffer.New[record.Record](capacity)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, ring: ring, node: flowview.NewNode("node-1", "kind", "v9.9.9", nil, intern.NewTables())}
}

// write appends n TCP records; record i has source port i and destination
// port 80 when i is even, else 443.
func (e *env) write(n int) {
	for range n {
		i := e.next
		e.next++
		rec := record.Record{
			Kind: record.KindTrace, Proto: record.ProtoTCP,
			Time:    base.Add(time.Duration(i) * time.Millisecond).UnixNano(),
			SrcPort: uint16(i), DstPort: 443,
		}
		if i%2 == 0 {
			rec.DstPort = 80
		}
		rec.SetAddrs(netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"))
		e.ring.Write(&rec)
	}
}

// writeLost appends a lost-event notice from an upstream stage.
func (e *env) writeLost(count uint32) {
	i := e.next
	e.next++
	e.ring.Write(&record.Record{
		Kind: record.KindLost, Time: base.Add(time.Duration(i) * time.Millisecond).UnixNano(),
		Count: count, LostSource: uint8(flowpb.LostEventSource_PERF_EVENT_RING_BUFFER),
	})
}

// readLog decodes a flow log as `hubble observe --input-file` does: each
// line a GetFlowsResponse in protojson.
func readLog(t testing.TB, data []byte) []*observerpb.GetFlowsResponse {
	t.Helper()
	var out []*observerpb.GetFlowsResponse
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var r observerpb.GetFlowsResponse
		if err := protojson.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %q: %v", sc.Bytes(), err)
		}
		out = append(out, &r)
	}
	return out
}

// readLogFile is readLog of a file, empty if it does not exist yet.
func readLogFile(t testing.TB, path string) []*observerpb.GetFlowsResponse {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return readLog(t, data)
}

// eventually retries check every 20ms until it returns true or 10s pass.
func eventually(t testing.TB, what string, check func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !check(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after 10s: %s", what)
		}
	}
}

// notes records the agent events exporters publish.
type notes struct {
	mu    sync.Mutex
	types []string
}

func (n *notes) notify(typ, _ string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.types = append(n.types, typ)
}

func (n *notes) get() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.types...)
}

// statusOf returns the status of m's exporter name, nil before it starts.
func statusOf(m *Manager, name string) *Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.statuses[name]
}
