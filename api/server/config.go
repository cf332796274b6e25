package server

import (
	"errors"
	"fmt"
	"net"
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
}

// Validate checks the configuration. Errors name the command-line flags the
// fields are bound to, which the agent and the relay share, since a flag is
// what the user has to change.
func (c Config) Validate() error {
	if c.SocketPath == "" {
		return errors.New("--socket-path: must be set")
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return errors.New("--tls-cert-file, --tls-key-file: must be set together")
	}
	if len(c.TLSClientCAFiles) > 0 && c.TLSCertFile == "" {
		return errors.New("--tls-client-ca-files: mutual TLS needs --tls-cert-file and --tls-key-file")
	}
	for i, f := range c.TLSClientCAFiles {
		if f == "" {
			return fmt.Errorf("--tls-client-ca-files: entry %d is an empty path", i)
		}
	}
	if c.ListenAddress == "" {
		return nil
	}
	if _, _, err := net.SplitHostPort(c.ListenAddress); err != nil {
		return fmt.Errorf("--listen-address: %w", err)
	}
	if c.TLSCertFile == "" && !c.Insecure {
		return errors.New("--listen-address: TCP needs --tls-cert-file and --tls-key-file, or --insecure")
	}
	if c.TLSCertFile != "" && c.Insecure {
		return errors.New("--insecure: conflicts with --tls-cert-file")
	}
	return nil
}

// tls reports whether the TCP listener serves TLS.
func (c Config) tls() bool { return c.TLSCertFile != "" }
