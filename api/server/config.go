package server

import (
	"fmt"
	"net"

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
}

// Validate reports the first invalid setting, named as its flag.
func (c Config) Validate() error {
	if c.SocketPath == "" {
		return fmt.Errorf("--%s: must be set", flagSocketPath)
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
