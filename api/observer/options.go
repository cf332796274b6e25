package observer

import (
	"log/slog"
	"time"
)

// Option configures a Server.
type Option func(*Server)

// WithLogger sets the logger.
func WithLogger(log *slog.Logger) Option { return func(s *Server) { s.log = log } }

// WithVersion sets the version reported by ServerStatus and GetNodes; it
// defaults to the node's.
func WithVersion(v string) Option { return func(s *Server) { s.version = v } }

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithStartTime sets when the agent started, the origin of reported uptime;
// it defaults to when New was called.
func WithStartTime(t time.Time) Option { return func(s *Server) { s.start = t } }

// WithSeenFlows sets the counter of flows decoded since start, which usually
// exceeds what the ring still holds.
func WithSeenFlows(seen func() uint64) Option { return func(s *Server) { s.seenFlows = seen } }

// WithFilterBuilder sets how request filters are compiled; the default is
// filters.Build.
func WithFilterBuilder(build FilterBuilder) Option { return func(s *Server) { s.buildFilter = build } }

// WithNamespaces sets the source GetNamespaces answers from.
func WithNamespaces(src NamespaceSource) Option { return func(s *Server) { s.namespaces = src } }

// WithAgentEvents sets the source GetAgentEvents answers from.
func WithAgentEvents(src AgentEventSource) Option { return func(s *Server) { s.agentEvents = src } }

// WithNodeAddress sets the address (host:port) GetNodes reports for this
// agent.
func WithNodeAddress(addr string) Option { return func(s *Server) { s.address = addr } }

// WithTLSServerName reports in GetNodes that the agent serves TLS under
// name.
func WithTLSServerName(name string) Option { return func(s *Server) { s.tlsServerName = name } }

// WithLostEventInterval sets how often ring-buffer losses are reported to a
// stream at most; it defaults to one second.
func WithLostEventInterval(d time.Duration) Option { return func(s *Server) { s.lostInterval = d } }
