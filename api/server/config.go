package server

import (
	"cmp"
	"fmt"
	"net"
	"time"

	"github.com/spf13/pflag"
)

// The flags the agent and the relay share for their servers. Flags
// registers them and Validate's errors name them, since a flag is what the
// user has to change.
const (
	flagSocketPath       = "socket-path"
	flagListenAddress    = "listen-address"
	flagInsecure         = "insecure"
	flagTLSCertFile      = "tls-cert-file"
	flagTLSKeyFile       = "tls-key-file"
	flagTLSClientCAFiles = "tls-client-ca-files"
	flagHealthAddress    = "health-address"
	flagMaxRequestBytes  = "max-request-bytes"
	flagMaxClientStreams = "max-streams-per-client"
	flagHandshakeTimeout = "handshake-timeout"
	flagKeepaliveTime    = "keepalive-time"
	flagKeepaliveTimeout = "keepalive-timeout"
	flagIdleTimeout      = "idle-timeout"
)

// The limits a server has unless its component sets others. Requests are
// filters and field masks, a few KiB at most; streams are a relay's or a UI's
// followers, each holding a ring reader.
const (
	defaultMaxRequestBytes  = 1 << 20
	defaultMaxClientStreams = 1000
	defaultHandshakeTimeout = 10 * time.Second
	defaultKeepaliveTime    = 30 * time.Second
	defaultKeepaliveTimeout = 10 * time.Second
	// minMaxRequestBytes fits a GetFlows request with a long filter list.
	minMaxRequestBytes = 4 << 10
	// minKeepaliveTime is the shortest ping interval gRPC accepts.
	minKeepaliveTime = time.Second
)

// Config says where and how the server listens.
type Config struct {
	// SocketPath is the unix socket the server always listens on.
	SocketPath string
	// ListenAddress is an optional TCP address, such as ":4244".
	ListenAddress string
	// Insecure allows TCP without TLS.
	Insecure bool
	// TLSCertFile and TLSKeyFile hold the TCP listener's certificate;
	// they are reloaded when they change.
	TLSCertFile, TLSKeyFile string
	// TLSClientCAFiles, when set, require clients to present a certificate
	// issued by one of these CAs.
	TLSClientCAFiles []string
	// HealthAddress is an optional TCP address serving the gRPC health
	// service alone, in plaintext: the kubelet's gRPC probes speak no TLS,
	// and the Hubble API's TCP listener speaks nothing else.
	HealthAddress string
	// Limits bound what one client can make the server hold.
	Limits Limits
}

// Limits bound what clients can make the server hold, so that a hostile or
// broken client cannot take the server from the others. A zero field takes
// its default.
type Limits struct {
	// MaxRequestBytes is the largest request message accepted; a larger
	// one fails with RESOURCE_EXHAUSTED.
	MaxRequestBytes int
	// MaxStreamsPerClient is how many streams one client (a TCP peer's
	// address, or the unix socket's users together) may hold open; more
	// fail with RESOURCE_EXHAUSTED.
	MaxStreamsPerClient int
	// HandshakeTimeout closes connections that have not finished their TLS
	// and HTTP/2 handshakes in this long, such as a peer that connects and
	// sends nothing.
	HandshakeTimeout time.Duration
	// KeepaliveTime is how long a connection may be silent before the
	// server pings it; KeepaliveTimeout how long it waits for the answer
	// before closing it, which ends the streams of a client that vanished.
	KeepaliveTime, KeepaliveTimeout time.Duration
	// IdleTimeout closes connections that hold no call for this long;
	// zero never does, since relays keep their agent connections up to
	// report node states.
	IdleTimeout time.Duration
}

// withDefaults returns l with each zero limit set to its default.
func (l Limits) withDefaults() Limits {
	l.MaxRequestBytes = cmp.Or(l.MaxRequestBytes, defaultMaxRequestBytes)
	l.MaxStreamsPerClient = cmp.Or(l.MaxStreamsPerClient, defaultMaxClientStreams)
	l.HandshakeTimeout = cmp.Or(l.HandshakeTimeout, defaultHandshakeTimeout)
	l.KeepaliveTime = cmp.Or(l.KeepaliveTime, defaultKeepaliveTime)
	l.KeepaliveTimeout = cmp.Or(l.KeepaliveTimeout, defaultKeepaliveTimeout)
	return l
}

// Flags registers the limits' flags, bound to l's fields, with def's values
// (defaulted) as defaults.
func (l *Limits) Flags(fs *pflag.FlagSet, def Limits) {
	def = def.withDefaults()
	fs.IntVar(&l.MaxRequestBytes, flagMaxRequestBytes, def.MaxRequestBytes, "largest request message accepted, in bytes")
	fs.IntVar(&l.MaxStreamsPerClient, flagMaxClientStreams, def.MaxStreamsPerClient, "streams one client (TCP address, or the unix socket's users together) may hold open")
	fs.DurationVar(&l.HandshakeTimeout, flagHandshakeTimeout, def.HandshakeTimeout, "close connections whose TLS and HTTP/2 handshakes take longer")
	fs.DurationVar(&l.KeepaliveTime, flagKeepaliveTime, def.KeepaliveTime, "ping a client whose connection was silent this long")
	fs.DurationVar(&l.KeepaliveTimeout, flagKeepaliveTimeout, def.KeepaliveTimeout, "close a connection whose ping is not answered in this long")
	fs.DurationVar(&l.IdleTimeout, flagIdleTimeout, def.IdleTimeout, "close connections holding no call for this long; 0 never does")
}

// Validate reports the first invalid limit, named as its flag; zero means
// the default.
func (l Limits) Validate() error {
	switch {
	case l.MaxRequestBytes != 0 && l.MaxRequestBytes < minMaxRequestBytes:
		return fmt.Errorf("--%s: %d is below the minimum of %d", flagMaxRequestBytes, l.MaxRequestBytes, minMaxRequestBytes)
	case l.MaxStreamsPerClient < 0:
		return fmt.Errorf("--%s: must not be negative", flagMaxClientStreams)
	case l.HandshakeTimeout < 0:
		return fmt.Errorf("--%s: must not be negative", flagHandshakeTimeout)
	case l.KeepaliveTime != 0 && l.KeepaliveTime < minKeepaliveTime:
		return fmt.Errorf("--%s: %v is below the minimum of %v", flagKeepaliveTime, l.KeepaliveTime, minKeepaliveTime)
	case l.KeepaliveTimeout < 0:
		return fmt.Errorf("--%s: must not be negative", flagKeepaliveTimeout)
	case l.IdleTimeout < 0:
		return fmt.Errorf("--%s: must not be negative", flagIdleTimeout)
	}
	return nil
}

// Flags registers the server's flags, bound to c's fields. The defaults
// come from def because they belong to the component that serves: the agent
// and the relay listen on different sockets and ports.
func (c *Config) Flags(fs *pflag.FlagSet, def Config) {
	fs.StringVar(&c.SocketPath, flagSocketPath, def.SocketPath, "unix socket to serve the Hubble API on (always served)")
	fs.StringVar(&c.ListenAddress, flagListenAddress, def.ListenAddress, "TCP address to serve the Hubble API on; empty disables TCP")
	fs.BoolVar(&c.Insecure, flagInsecure, def.Insecure, "serve TCP in plaintext (otherwise TLS is required)")
	fs.StringVar(&c.TLSCertFile, flagTLSCertFile, def.TLSCertFile, "server certificate (PEM) for TCP")
	fs.StringVar(&c.TLSKeyFile, flagTLSKeyFile, def.TLSKeyFile, "server private key (PEM) for TCP")
	fs.StringSliceVar(&c.TLSClientCAFiles, flagTLSClientCAFiles, def.TLSClientCAFiles, "CA bundles that client certificates must chain to (turns on mTLS)")
	fs.StringVar(&c.HealthAddress, flagHealthAddress, def.HealthAddress, "TCP address to serve the gRPC health service alone on, in plaintext, for Kubernetes gRPC probes; empty disables it")
	c.Limits.Flags(fs, def.Limits)
}

// Validate reports the first invalid setting, named as its flag.
func (c Config) Validate() error {
	if c.SocketPath == "" {
		return fmt.Errorf("--%s: must be set", flagSocketPath)
	}
	if err := c.Limits.Validate(); err != nil {
		return err
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return fmt.Errorf("--%s, --%s: must be set together", flagTLSCertFile, flagTLSKeyFile)
	}
	if len(c.TLSClientCAFiles) > 0 && c.TLSCertFile == "" {
		return fmt.Errorf("--%s: mutual TLS needs --%s and --%s", flagTLSClientCAFiles, flagTLSCertFile, flagTLSKeyFile)
	}
	for i, f := range c.TLSClientCAFiles {
		if f == "" {
			return fmt.Errorf("--%s: entry %d is an empty path", flagTLSClientCAFiles, i)
		}
	}
	if c.HealthAddress != "" {
		if _, _, err := net.SplitHostPort(c.HealthAddress); err != nil {
			return fmt.Errorf("--%s: %w", flagHealthAddress, err)
		}
	}
	if c.ListenAddress == "" {
		return nil
	}
	if _, _, err := net.SplitHostPort(c.ListenAddress); err != nil {
		return fmt.Errorf("--%s: %w", flagListenAddress, err)
	}
	if c.TLSCertFile == "" && !c.Insecure {
		return fmt.Errorf("--%s: TCP needs --%s and --%s, or --%s", flagListenAddress, flagTLSCertFile, flagTLSKeyFile, flagInsecure)
	}
	if c.TLSCertFile != "" && c.Insecure {
		return fmt.Errorf("--%s: conflicts with --%s", flagInsecure, flagTLSCertFile)
	}
	return nil
}

// tls reports whether the TCP listener serves TLS.
func (c Config) tls() bool { return c.TLSCertFile != "" }
