package capture

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/foveanet/fovea/agent/endpoints"
	"github.com/foveanet/fovea/api/capture/capturepb"
	"github.com/foveanet/fovea/api/pcapng"
	"github.com/foveanet/fovea/model/flowview"
)

// linkTypeEthernet is LINKTYPE_ETHERNET: pod veths carry Ethernet frames.
const linkTypeEthernet = 1

// maxKept is how many ended captures a node keeps, whatever their size.
const maxKept = 64

// Server is the agent's Capture service.
type Server struct {
	capturepb.UnimplementedCaptureServer

	cfg  Config
	node *flowview.Node
	pods *endpoints.Store
	net  network
	log  *slog.Logger

	mu       sync.Mutex
	sessions map[string]*session
	running  map[string]bool
}

// Option configures a Server.
type Option func(*Server)

// withNetwork replaces the node's packet sockets, for tests.
func withNetwork(n network) Option { return func(s *Server) { s.net = n } }

// NewServer returns the Capture service of node, selecting among the pods
// of pods' index. It empties cfg.Dir of the files of earlier runs.
func NewServer(cfg Config, node *flowview.Node, pods *endpoints.Store, log *slog.Logger, opts ...Option) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, node: node, pods: pods, net: newNetwork(), log: log, sessions: map[string]*session{}, running: map[string]bool{}}
	for _, opt := range opts {
		opt(s)
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("--%s: %w", flagDir, err)
	}
	old, err := filepath.Glob(filepath.Join(cfg.Dir, "*"+fileSuffix))
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", flagDir, err)
	}
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return nil, fmt.Errorf("--%s: remove an earlier run's capture: %w", flagDir, err)
		}
	}
	return s, nil
}

const fileSuffix = ".pcapng"

// Start captures on the node's pods the request selects.
func (s *Server) Start(req *capturepb.StartRequest, stream capturepb.Capture_StartServer) error {
	p, err := newPlan(req, s.cfg)
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	if !p.sel.nodeMatches(s.node) {
		return status.Errorf(codes.NotFound, "node %s does not match selector.node_selector", s.node.Name)
	}
	taps, err := s.selectTaps(p)
	if err != nil {
		return status.Errorf(codes.Internal, "find the selected pods' interfaces: %v", err)
	}
	if len(taps) == 0 {
		return status.Errorf(codes.NotFound, "no pod on node %s matches the selector", s.node.Name)
	}
	sess, err := s.admit(p, taps)
	if err != nil {
		return err
	}
	defer s.done(sess)
	s.log.Info("capture started", "capture", p.id, "interfaces", len(taps), "filter", req.GetFilter())
	return sess.run(stream.Context(), stream.Send)
}

// selectTaps finds the interfaces of the pods p selects, and the host's
// when asked for.
func (s *Server) selectTaps(p *plan) ([]*tap, error) {
	var taps []*tap
	seen := map[int]bool{}
	local := s.pods.Load().LocalPods()
	for i := range local {
		pod := &local[i]
		if !p.sel.podMatches(pod, s.node) {
			continue
		}
		l, ok, err := s.net.podLink(pod.IPs)
		if err != nil {
			return nil, err
		}
		if !ok || seen[l.index] {
			continue
		}
		seen[l.index] = true
		key := pod.Namespace + "/" + pod.Name
		taps = append(taps, &tap{link: l, pod: pod, iface: &capturepb.Interface{
			Name:        key + "@" + s.node.Name,
			Description: fmt.Sprintf("pod %s on node %s (%s)", key, s.node.Name, l.name),
			Namespace:   pod.Namespace, Pod: pod.Name, Device: l.name,
		}})
	}
	if p.req.GetHostInterfaces() && len(taps) > 0 {
		links, err := s.net.hostLinks()
		if err != nil {
			return nil, err
		}
		for _, l := range links {
			if seen[l.index] {
				continue
			}
			seen[l.index] = true
			taps = append(taps, &tap{link: l, iface: &capturepb.Interface{
				Name:        l.name + "@" + s.node.Name,
				Description: fmt.Sprintf("host interface %s of node %s", l.name, s.node.Name),
				Device:      l.name,
			}})
		}
	}
	for i, t := range taps {
		t.id = uint32(i)
		t.iface.Id, t.iface.LinkType, t.iface.SnapLength = t.id, linkTypeEthernet, p.limits.snap
	}
	return taps, nil
}

// admit checks the node's bounds, makes room for the capture's file,
// creates it and opens the sockets.
func (s *Server) admit(p *plan, taps []*tap) (*session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.sessions[p.id]; dup {
		return nil, status.Errorf(codes.AlreadyExists, "id: capture %s exists on node %s", p.id, s.node.Name)
	}
	if len(s.running) >= s.cfg.MaxConcurrent {
		return nil, status.Errorf(codes.ResourceExhausted, "node %s runs %d captures, its most (--%s)", s.node.Name, len(s.running), flagMaxConcurrent)
	}
	if err := s.makeRoomLocked(p.limits.bytes); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(s.cfg.Dir, p.id+fileSuffix), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "create capture file: %v", err)
	}
	for i, t := range taps {
		if t.sock, err = s.net.open(t.link, p.prog); err != nil {
			for _, opened := range taps[:i] {
				_ = opened.sock.close()
			}
			f.Close()
			_ = os.Remove(f.Name())
			return nil, status.Errorf(codes.Internal, "open a packet socket on %s: %v", t.link.name, err)
		}
	}
	sess := newSession(p, s.node.AbsoluteName(), taps, f, s.pods, s.net, s.log)
	s.sessions[p.id], s.running[p.id] = sess, true
	return sess, nil
}

// makeRoomLocked removes the oldest ended captures until need more bytes
// fit the node's storage, counting running captures at their limit.
func (s *Server) makeRoomLocked(need uint64) error {
	var used uint64
	var ended []*session
	for id, sess := range s.sessions {
		if s.running[id] {
			used += sess.plan.limits.bytes
		} else {
			used += sess.storedBytes()
			ended = append(ended, sess)
		}
	}
	slices.SortFunc(ended, byStart)
	limit := uint64(s.cfg.MaxStoredBytes)
	for len(ended) > 0 && (used+need > limit || len(ended) >= maxKept) {
		old := ended[0]
		ended = ended[1:]
		used -= old.storedBytes()
		s.removeLocked(old)
	}
	if used+need > limit {
		return status.Errorf(codes.ResourceExhausted, "node %s has no room for %d more bytes of captures: running ones take %d of %d (--%s)",
			s.node.Name, need, used, limit, flagMaxStored)
	}
	return nil
}

func (s *Server) removeLocked(sess *session) {
	delete(s.sessions, sess.plan.id)
	if err := os.Remove(sess.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log.Warn("removing an old capture failed", "path", sess.path, "err", err)
	}
}

func (s *Server) done(sess *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.running, sess.plan.id)
}

func (s *Server) lookup(id string) (*session, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok {
		return nil, false, status.Errorf(codes.NotFound, "no capture %s on node %s", id, s.node.Name)
	}
	return sess, s.running[id], nil
}

// List returns the node's captures, running and kept, oldest first.
func (s *Server) List(context.Context, *capturepb.ListRequest) (*capturepb.ListResponse, error) {
	s.mu.Lock()
	all := make([]*session, 0, len(s.sessions))
	for _, sess := range s.sessions {
		all = append(all, sess)
	}
	s.mu.Unlock()
	slices.SortFunc(all, byStart)
	resp := &capturepb.ListResponse{}
	for _, sess := range all {
		resp.Captures = append(resp.Captures, sess.snapshot())
	}
	return resp, nil
}

// Stop ends a running capture; stopping an ended one does nothing.
func (s *Server) Stop(_ context.Context, req *capturepb.StopRequest) (*capturepb.StopResponse, error) {
	sess, running, err := s.lookup(req.GetId())
	if err != nil {
		return nil, err
	}
	if !running {
		return &capturepb.StopResponse{}, nil
	}
	sess.stop()
	return &capturepb.StopResponse{Nodes: []string{s.node.AbsoluteName()}}, nil
}

// Download streams an ended capture's file as events: Started, its
// interfaces and packets, Ended.
func (s *Server) Download(req *capturepb.DownloadRequest, stream capturepb.Capture_DownloadServer) error {
	sess, running, err := s.lookup(req.GetId())
	if err != nil {
		return err
	}
	if running {
		return status.Errorf(codes.FailedPrecondition, "capture %s still runs on node %s: stop it or wait for its end", req.GetId(), s.node.Name)
	}
	info := sess.snapshot()
	f, err := os.Open(sess.path)
	if err != nil {
		return status.Errorf(codes.NotFound, "capture %s's file on node %s: %v", req.GetId(), s.node.Name, err)
	}
	defer f.Close()
	send := func(ev *capturepb.CaptureEvent) error { return stream.Send(sess.event(ev)) }
	if err := send(&capturepb.CaptureEvent{Event: &capturepb.CaptureEvent_Started{Started: &capturepb.Started{
		Time: info.GetStarted(), Limits: sess.plan.limits.proto(),
	}}}); err != nil {
		return err
	}
	if err := pcapng.Read(f, send); err != nil {
		return status.Errorf(codes.Internal, "read capture %s: %v", req.GetId(), err)
	}
	return send(&capturepb.CaptureEvent{Event: &capturepb.CaptureEvent_Ended{Ended: &capturepb.Ended{
		Reason: info.GetEndReason(), Message: "downloaded", Progress: info.GetProgress(),
	}}})
}
