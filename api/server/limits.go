package server

import (
	"log/slog"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// refusalLogInterval spaces the logs of refused streams: an attacker
// opening thousands must not flood the log.
const refusalLogInterval = 30 * time.Second

// unixClient is the key of every unix socket client: they share no address,
// and only the socket's owner and group can connect.
const unixClient = "unix"

// streamLimiter refuses a client's streams beyond a limit, so that one
// client cannot hold every reader the server can serve. HTTP/2's
// MAX_CONCURRENT_STREAMS would instead make the extra streams wait without
// an error, and bounds a connection rather than a client.
type streamLimiter struct {
	limit int
	log   *slog.Logger
	mu    sync.Mutex
	open  map[string]int // by client
	// refused counts refusals since the last log of them, at loggedAt.
	refused  int
	loggedAt time.Time
}

func newStreamLimiter(limit int, log *slog.Logger) *streamLimiter {
	return &streamLimiter{limit: limit, log: log, open: make(map[string]int)}
}

// intercept counts the stream against its client for as long as it runs.
func (l *streamLimiter) intercept(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	client := clientKey(ss)
	if !l.acquire(client) {
		return status.Errorf(codes.ResourceExhausted, "client %s holds %d streams already, the most one client may", client, l.limit)
	}
	defer l.release(client)
	return h(srv, ss)
}

func (l *streamLimiter) acquire(client string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[client] >= l.limit {
		l.refused++
		if now := time.Now(); now.Sub(l.loggedAt) >= refusalLogInterval {
			l.log.Warn("refusing streams over the per-client limit", "client", client, "limit", l.limit, "refused", l.refused)
			l.refused, l.loggedAt = 0, now
		}
		return false
	}
	l.open[client]++
	return true
}

func (l *streamLimiter) release(client string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[client]--; l.open[client] == 0 {
		delete(l.open, client) // clients come and go: keep only those with streams
	}
}

// clientKey names a stream's client: a TCP peer by its IP address (one
// client may open many connections), anything else as the unix socket.
func clientKey(ss grpc.ServerStream) string {
	p, ok := peer.FromContext(ss.Context())
	if !ok {
		return unixClient
	}
	if a, ok := p.Addr.(*net.TCPAddr); ok {
		return a.IP.String()
	}
	return unixClient
}
