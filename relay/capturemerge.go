package relay

import (
	"time"

	"github.com/foveanet/fovea/api/capture/capturepb"
)

// captureLateness is how long the capture merge waits for a node that has
// said nothing newer before it sends older packets of other nodes: a node
// sends its packets in time order, and its progress, with a watermark,
// only once a second.
const captureLateness = 250 * time.Millisecond

// captureMerge merges nodes' capture events into one stream: each node's
// events keep their order, and packets of all nodes leave in time order
// once no node can still send an older one (every running node sent a
// newer packet or watermark), or once they are captureLateness old.
type captureMerge struct {
	nodes map[string]*mergeNode
	order []string // node names, for a stable scan
	send  func(*capturepb.CaptureEvent) error
	now   func() time.Time
	id    string // the capture's, in the Packets events the merge makes
}

type mergeNode struct {
	queue []mergeItem
	// watermark: the node sent every packet older than it.
	watermark int64
	ended     bool
}

// mergeItem is a queued event of a node: a packet, or any other event.
type mergeItem struct {
	pkt *capturepb.Packet
	ev  *capturepb.CaptureEvent
}

func newCaptureMerge(id string, send func(*capturepb.CaptureEvent) error) *captureMerge {
	return &captureMerge{nodes: map[string]*mergeNode{}, send: send, now: time.Now, id: id}
}

func (m *captureMerge) node(name string) *mergeNode {
	n, ok := m.nodes[name]
	if !ok {
		n = &mergeNode{}
		m.nodes[name], m.order = n, append(m.order, name)
	}
	return n
}

// add queues ev of its node and sends what may go.
func (m *captureMerge) add(ev *capturepb.CaptureEvent) error {
	n := m.node(ev.GetNode())
	switch e := ev.GetEvent().(type) {
	case *capturepb.CaptureEvent_Packets:
		for _, p := range e.Packets.GetPackets() {
			n.queue = append(n.queue, mergeItem{pkt: p})
			n.watermark = max(n.watermark, p.GetTimeUnixNano())
		}
	case *capturepb.CaptureEvent_Progress:
		n.watermark = max(n.watermark, e.Progress.GetWatermark().AsTime().UnixNano())
		n.queue = append(n.queue, mergeItem{ev: ev})
	case *capturepb.CaptureEvent_Ended:
		n.ended = true
		n.queue = append(n.queue, mergeItem{ev: ev})
	default:
		n.queue = append(n.queue, mergeItem{ev: ev})
	}
	return m.flush(false)
}

// flush sends every event that may go; with all, everything queued.
func (m *captureMerge) flush(all bool) error {
	late := m.now().Add(-captureLateness).UnixNano()
	var batchNode string
	var batch []*capturepb.Packet
	sendBatch := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := m.send(&capturepb.CaptureEvent{Node: batchNode, CaptureId: m.id, Event: &capturepb.CaptureEvent_Packets{Packets: &capturepb.Packets{Packets: batch}}})
		batch = nil
		return err
	}
	for {
		// Events other than packets go as soon as they reach the head.
		for _, name := range m.order {
			n := m.nodes[name]
			for len(n.queue) > 0 && n.queue[0].pkt == nil {
				if err := sendBatch(); err != nil {
					return err
				}
				if err := m.send(n.queue[0].ev); err != nil {
					return err
				}
				n.queue = n.queue[1:]
			}
		}
		// Then the oldest packet at a head, if no running node may still
		// send an older one.
		var oldest string
		for _, name := range m.order {
			n := m.nodes[name]
			if len(n.queue) > 0 && (oldest == "" || n.queue[0].pkt.GetTimeUnixNano() < m.nodes[oldest].queue[0].pkt.GetTimeUnixNano()) {
				oldest = name
			}
		}
		if oldest == "" {
			return sendBatch()
		}
		t := m.nodes[oldest].queue[0].pkt.GetTimeUnixNano()
		if !all && t > late && !m.safe(t) {
			return sendBatch()
		}
		if oldest != batchNode {
			if err := sendBatch(); err != nil {
				return err
			}
			batchNode = oldest
		}
		n := m.nodes[oldest]
		batch = append(batch, n.queue[0].pkt)
		n.queue = n.queue[1:]
	}
}

// safe reports whether every node that runs and has nothing queued has
// said it sent everything up to t.
func (m *captureMerge) safe(t int64) bool {
	for _, n := range m.nodes {
		if !n.ended && len(n.queue) == 0 && n.watermark < t {
			return false
		}
	}
	return true
}
