package capture

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/foveanet/fovea/agent/endpoints"
	"github.com/foveanet/fovea/api/capture/capturepb"
	"github.com/foveanet/fovea/api/pcapng"
)

const (
	// memoryBudget bounds the packet data a capture holds in memory
	// between its sockets and its file; readers wait beyond it.
	memoryBudget = 8 << 20
	// orderWindow is how long a packet waits for packets of other
	// interfaces that the kernel received before it: packets leave in
	// time order once older than this.
	orderWindow = 100 * time.Millisecond
	// releaseInterval is how often ordered packets are written and sent.
	releaseInterval = 50 * time.Millisecond
	// progressInterval is how often progress is sent and the pods are
	// checked.
	progressInterval = time.Second
	// batchBytes bounds the packet data of one Packets event.
	batchBytes = 256 << 10
)

// session is one capture on this node.
type session struct {
	plan    *plan
	node    string // the node's absolute name, in events
	log     *slog.Logger
	pods    *endpoints.Store
	net     network
	taps    []*tap
	path    string
	file    *os.File
	out     *pcapng.Writer
	started time.Time
	stopCh  chan struct{}
	stop    func() // closes stopCh once

	// Owned by run's goroutine.
	pending            []packet
	packets, bytes     uint64
	reason             capturepb.EndReason
	message            string
	mem                *semaphore.Weighted
	batch              []*capturepb.Packet
	batchSize          int
	send               func(*capturepb.CaptureEvent) error
	sendErr            error
	deletedPods, other []string

	mu   sync.Mutex // guards info
	info *capturepb.CaptureInfo
}

func newSession(p *plan, node string, taps []*tap, file *os.File, pods *endpoints.Store, net network, log *slog.Logger) *session {
	s := &session{
		plan: p, node: node, log: log, pods: pods, net: net, taps: taps, path: file.Name(), file: file,
		out: pcapng.NewWriter(file), started: time.Now(), stopCh: make(chan struct{}), mem: semaphore.NewWeighted(memoryBudget),
	}
	s.stop = sync.OnceFunc(func() { close(s.stopCh) })
	s.info = &capturepb.CaptureInfo{
		Id: p.id, Node: node, State: capturepb.State_STATE_RUNNING, Request: p.req, Started: timestamppb.New(s.started),
	}
	for _, t := range taps {
		s.info.Interfaces = append(s.info.Interfaces, t.iface)
	}
	return s
}

// snapshot returns what List shows of the session.
func (s *session) snapshot() *capturepb.CaptureInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return proto.Clone(s.info).(*capturepb.CaptureInfo)
}

func (s *session) event(ev *capturepb.CaptureEvent) *capturepb.CaptureEvent {
	ev.Node, ev.CaptureId = s.node, s.plan.id
	return ev
}

// emit sends ev to the caller, unless sending already failed: the capture
// then goes on to its end, into its file.
func (s *session) emit(ev *capturepb.CaptureEvent) {
	if s.sendErr != nil {
		return
	}
	if err := s.send(s.event(ev)); err != nil {
		s.sendErr = err
	}
}

// run captures until a limit, Stop, the end of ctx or the loss of every
// interface, streaming events to send, and closes the file. It returns
// the error that broke the stream, if any.
func (s *session) run(ctx context.Context, send func(*capturepb.CaptureEvent) error) error {
	s.send = send
	s.emit(&capturepb.CaptureEvent{Event: &capturepb.CaptureEvent_Started{Started: &capturepb.Started{
		Time: timestamppb.New(s.started), Limits: s.plan.limits.proto(),
	}}})
	for _, t := range s.taps {
		if err := s.out.AddInterface(s.node, t.iface); err != nil {
			for _, t := range s.taps {
				_ = t.sock.close()
			}
			return s.finish(capturepb.EndReason_END_REASON_ERROR, err.Error())
		}
		s.emit(&capturepb.CaptureEvent{Event: &capturepb.CaptureEvent_Interface{Interface: t.iface}})
	}

	readers, stopReaders := context.WithCancel(context.Background())
	defer stopReaders()
	in := make(chan packet, 256)
	ended := make(chan tapEnd)
	var wg sync.WaitGroup
	for _, t := range s.taps {
		tctx, stop := context.WithCancel(readers)
		t.stop = stop
		wg.Go(func() { t.read(tctx, s.plan.limits.snap, in, s.mem, ended) })
	}
	deadline := time.NewTimer(s.plan.limits.duration)
	defer deadline.Stop()
	release := time.NewTicker(releaseInterval)
	defer release.Stop()
	progress := time.NewTicker(progressInterval)
	defer progress.Stop()

	for s.reason == capturepb.EndReason_END_REASON_UNSPECIFIED {
		select {
		case p := <-in:
			s.pending = append(s.pending, p)
		case <-release.C:
			s.release(time.Now().Add(-orderWindow))
		case <-progress.C:
			s.checkPods()
			s.emit(&capturepb.CaptureEvent{Event: &capturepb.CaptureEvent_Progress{Progress: s.progress()}})
			s.updateInfo()
		case e := <-ended:
			s.closeTap(e.tap, tapEndReason(e.err))
		case <-deadline.C:
			s.end(capturepb.EndReason_END_REASON_DURATION, "duration reached")
		case <-s.stopCh:
			s.end(capturepb.EndReason_END_REASON_STOPPED, "stopped")
		case <-ctx.Done():
			s.end(capturepb.EndReason_END_REASON_CANCELLED, "the caller went away")
		}
		if s.sendErr != nil && s.reason == capturepb.EndReason_END_REASON_UNSPECIFIED {
			s.end(capturepb.EndReason_END_REASON_CANCELLED, "sending to the caller failed")
		}
	}
	stopReaders()
	// Readers blocked on a full queue give up once stopped; what they
	// queued before still counts.
	go func() { wg.Wait(); close(in) }()
	for p := range in {
		s.pending = append(s.pending, p)
	}
	if s.reason != capturepb.EndReason_END_REASON_PACKETS && s.reason != capturepb.EndReason_END_REASON_BYTES {
		s.release(time.Now().Add(time.Hour))
	}
	return s.finish(s.reason, s.message)
}

// end records why the capture ends, once.
func (s *session) end(reason capturepb.EndReason, message string) {
	if s.reason == capturepb.EndReason_END_REASON_UNSPECIFIED {
		s.reason, s.message = reason, message
	}
}

// release writes and sends, in time order, the pending packets received
// up to upTo, stopping at the packet or size limit.
func (s *session) release(upTo time.Time) {
	slices.SortStableFunc(s.pending, func(a, b packet) int { return a.at.Compare(b.at) })
	n := 0
	for ; n < len(s.pending) && !s.pending[n].at.After(upTo); n++ {
		p := s.pending[n]
		s.mem.Release(int64(len(p.data)))
		if s.limitReached() {
			continue
		}
		size := blockSize(len(p.data))
		if s.bytes+size > s.plan.limits.bytes {
			s.end(capturepb.EndReason_END_REASON_BYTES, fmt.Sprintf("size limit of %d bytes reached", s.plan.limits.bytes))
			continue
		}
		pb := &capturepb.Packet{InterfaceId: p.tap, TimeUnixNano: p.at.UnixNano(), Length: uint32(p.length), Data: p.data}
		if err := s.out.WritePacket(s.node, pb); err != nil {
			s.end(capturepb.EndReason_END_REASON_ERROR, err.Error())
			continue
		}
		s.packets++
		s.bytes += size
		s.batch = append(s.batch, pb)
		if s.batchSize += len(p.data); s.batchSize >= batchBytes {
			s.flushBatch()
		}
		if max := s.plan.limits.packets; max > 0 && s.packets >= max {
			s.end(capturepb.EndReason_END_REASON_PACKETS, fmt.Sprintf("packet limit of %d reached", max))
		}
	}
	s.pending = slices.Delete(s.pending, 0, n)
	s.flushBatch()
	if err := s.out.Flush(); err != nil {
		s.end(capturepb.EndReason_END_REASON_ERROR, err.Error())
	}
}

func (s *session) limitReached() bool {
	return s.reason == capturepb.EndReason_END_REASON_PACKETS || s.reason == capturepb.EndReason_END_REASON_BYTES ||
		s.reason == capturepb.EndReason_END_REASON_ERROR
}

func (s *session) flushBatch() {
	if len(s.batch) == 0 {
		return
	}
	s.emit(&capturepb.CaptureEvent{Event: &capturepb.CaptureEvent_Packets{Packets: &capturepb.Packets{Packets: s.batch}}})
	s.batch, s.batchSize = nil, 0
}

// blockSize is what a packet of n captured bytes takes in the file: an
// enhanced packet block's 32 bytes around its data, padded to 4 bytes.
func blockSize(n int) uint64 { return uint64(32 + (n+3)&^3) }

// checkPods closes the taps of pods that are gone: no longer in the
// index, or their interface deleted.
func (s *session) checkPods() {
	current := map[string]*endpoints.LocalPod{}
	local := s.pods.Load().LocalPods()
	for i := range local {
		current[local[i].Namespace+"/"+local[i].Name] = &local[i]
	}
	for _, t := range s.taps {
		if t.closed {
			continue
		}
		if t.pod != nil {
			key := t.pod.Namespace + "/" + t.pod.Name
			if p, ok := current[key]; !ok || !slices.Equal(p.IPs, t.pod.IPs) {
				s.closeTap(t.id, "pod "+key+" deleted")
				continue
			}
		}
		if !s.net.exists(t.link) {
			s.closeTap(t.id, tapEndReason(errGone))
		}
	}
}

func tapEndReason(err error) string {
	if errors.Is(err, errGone) {
		return "interface deleted"
	}
	return err.Error()
}

// closeTap ends tap id's reader and tells the caller why; once every tap
// is closed, the capture ends.
func (s *session) closeTap(id uint32, why string) {
	t := s.taps[id]
	if t.closed {
		return
	}
	t.closed = true
	t.stop()
	s.log.Info("capture interface closed", "capture", s.plan.id, "iface", t.iface.GetName(), "reason", why)
	if t.pod != nil && strings.HasSuffix(why, " deleted") {
		s.deletedPods = append(s.deletedPods, t.pod.Namespace+"/"+t.pod.Name)
	} else {
		s.other = append(s.other, t.iface.GetName()+": "+why)
	}
	s.emit(&capturepb.CaptureEvent{Event: &capturepb.CaptureEvent_InterfaceClosed{InterfaceClosed: &capturepb.InterfaceClosed{InterfaceId: id, Reason: why}}})
	if slices.ContainsFunc(s.taps, func(t *tap) bool { return !t.closed }) {
		return
	}
	if len(s.deletedPods) > 0 {
		s.end(capturepb.EndReason_END_REASON_PODS_DELETED, "pods deleted: "+strings.Join(s.deletedPods, ", "))
		return
	}
	s.end(capturepb.EndReason_END_REASON_ERROR, "every interface closed: "+strings.Join(s.other, "; "))
}

func (s *session) progress() *capturepb.Progress {
	var drops uint64
	for _, t := range s.taps {
		drops += t.drops.Load()
	}
	elapsed := time.Since(s.started)
	remaining := max(s.plan.limits.duration-elapsed, 0)
	return &capturepb.Progress{
		Packets: s.packets, Bytes: s.bytes, Dropped: drops,
		Elapsed: durationpb.New(elapsed), Remaining: durationpb.New(remaining),
		Watermark: timestamppb.New(time.Now().Add(-orderWindow)),
	}
}

func (s *session) updateInfo() {
	p := s.progress()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.info.Progress = p
}

// finish closes the file, records the end and sends Ended.
func (s *session) finish(reason capturepb.EndReason, message string) error {
	if err := s.out.Flush(); err != nil && reason != capturepb.EndReason_END_REASON_ERROR {
		reason, message = capturepb.EndReason_END_REASON_ERROR, err.Error()
	}
	if err := s.file.Close(); err != nil {
		s.log.Warn("closing a capture file failed", "path", s.path, "err", err)
	}
	var stored uint64
	if fi, err := os.Stat(s.path); err == nil {
		stored = uint64(fi.Size())
	}
	p := s.progress()
	p.Watermark = timestamppb.New(time.Now())
	s.mu.Lock()
	s.info.State, s.info.EndReason, s.info.Ended, s.info.Progress, s.info.StoredBytes =
		capturepb.State_STATE_ENDED, reason, timestamppb.Now(), p, stored
	s.mu.Unlock()
	s.log.Info("capture ended", "capture", s.plan.id, "reason", reason, "message", message, "packets", s.packets, "bytes", s.bytes)
	s.emit(&capturepb.CaptureEvent{Event: &capturepb.CaptureEvent_Ended{Ended: &capturepb.Ended{Reason: reason, Message: message, Progress: p}}})
	return s.sendErr
}

// storedBytes is the size of the file of an ended session.
func (s *session) storedBytes() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.info.GetStoredBytes()
}

// byStart orders sessions oldest first.
func byStart(a, b *session) int { return cmp.Compare(a.started.UnixNano(), b.started.UnixNano()) }
