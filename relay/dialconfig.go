package relay

import (
	"fmt"
	"time"

	"github.com/spf13/pflag"
)

// The flags of how the relay connects to agents; Flags registers them and
// Validate's errors name them.
const (
	flagPeerInsecure      = "peer-insecure"
	flagPeerTLSCAFiles    = "peer-tls-ca-files"
	flagPeerTLSCertFile   = "peer-tls-cert-file"
	flagPeerTLSKeyFile    = "peer-tls-key-file"
	flagPeerTLSServerName = "peer-tls-server-name"
	flagDialTimeout       = "dial-timeout"
	flagRetryTimeout      = "retry-timeout"
	flagPeerKeepalive     = "peer-keepalive"
)

// ClientTLS is how the relay authenticates to agents.
type ClientTLS struct {
	// Insecure dials agents in plaintext.
	Insecure bool
	// CAFiles are the CA bundles agent certificates must chain to; none
	// means the system roots.
	CAFiles []string
	// CertFile and KeyFile hold the relay's client certificate for agents
	// requiring mutual TLS; reloaded when they change.
	CertFile, KeyFile string
	// ServerName, when set, is the name every agent certificate must carry;
	// otherwise each peer's announced name, or
	// <node>.<cluster>.hubble-grpc.cilium.io, is used.
	ServerName string
}

// Flags registers the TLS flags, with their defaults, bound to c's fields.
func (c *ClientTLS) Flags(fs *pflag.FlagSet) {
	fs.BoolVar(&c.Insecure, flagPeerInsecure, false, "connect to agents in plaintext")
	fs.StringSliceVar(&c.CAFiles, flagPeerTLSCAFiles, nil, "CA bundles agent certificates must chain to (default: system roots)")
	fs.StringVar(&c.CertFile, flagPeerTLSCertFile, "", "client certificate (PEM) for agents requiring mutual TLS")
	fs.StringVar(&c.KeyFile, flagPeerTLSKeyFile, "", "client private key (PEM) for agents requiring mutual TLS")
	fs.StringVar(&c.ServerName, flagPeerTLSServerName, "",
		"name every agent certificate must carry (default: the name each agent announces, or <node>.<cluster>.hubble-grpc.cilium.io)")
}

// Validate checks the settings; errors name the flags.
func (c ClientTLS) Validate() error {
	if (c.CertFile == "") != (c.KeyFile == "") {
		return fmt.Errorf("--%s, --%s: must be set together", flagPeerTLSCertFile, flagPeerTLSKeyFile)
	}
	if c.Insecure && (c.CertFile != "" || len(c.CAFiles) > 0 || c.ServerName != "") {
		return fmt.Errorf("--%s: conflicts with the --peer-tls-* flags", flagPeerInsecure)
	}
	for i, f := range c.CAFiles {
		if f == "" {
			return fmt.Errorf("--%s: entry %d is an empty path", flagPeerTLSCAFiles, i)
		}
	}
	return nil
}

// DialConfig is how the relay connects to agents.
type DialConfig struct {
	TLS ClientTLS
	// DialTimeout bounds one connection attempt.
	DialTimeout time.Duration
	// MaxBackoff caps the exponential delay between connection attempts.
	MaxBackoff time.Duration
	// Keepalive is the interval of pings on idle connections, which detect
	// peers that vanished without closing them.
	Keepalive time.Duration
}

// Flags registers the dial flags, with their defaults, bound to c's fields.
func (c *DialConfig) Flags(fs *pflag.FlagSet) {
	c.TLS.Flags(fs)
	fs.DurationVar(&c.DialTimeout, flagDialTimeout, 5*time.Second, "timeout of one connection attempt to an agent")
	fs.DurationVar(&c.MaxBackoff, flagRetryTimeout, 30*time.Second, "longest wait between connection attempts to an agent")
	fs.DurationVar(&c.Keepalive, flagPeerKeepalive, 30*time.Second, "keepalive ping interval on agent connections (at least 5s)")
}

// Validate checks the settings; errors name the flags.
func (c DialConfig) Validate() error {
	if err := c.TLS.Validate(); err != nil {
		return err
	}
	if c.DialTimeout <= 0 {
		return fmt.Errorf("--%s: must be positive", flagDialTimeout)
	}
	if c.MaxBackoff <= 0 {
		return fmt.Errorf("--%s: must be positive", flagRetryTimeout)
	}
	if c.Keepalive < 5*time.Second {
		// Agents refuse pings more frequent than this.
		return fmt.Errorf("--%s: must be at least 5s", flagPeerKeepalive)
	}
	return nil
}
