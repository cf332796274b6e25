package server

import (
	"net"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// unixClient is the key of every unix socket client: they share no address,
// and only the socket's owner and group can connect.
const unixClient = "unix"

// streamLimiter refuses a client's streams beyond a limit, so that one
// client cannot hold every reader the server can serve. HTTP/2's
// MAX_CONCURRENT_STREAMS would instead make the extra streams wait without
// an error, and bounds a connection rather than a client.
type streamLimiter struct {
	limit int
	mu    sync.Mutex
	open  map[string]int // by client
}

func newStreamLimiter(limit int) *streamLimiter {
	return &streamLimiter{limit: limit, open: make(map[string]int)}
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
