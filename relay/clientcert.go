package relay

import (
	"crypto/tls"
	"fmt"
	"os"
	"sync"
	"time"
)

// certCheckEvery bounds how often the client certificate files are stat'ed.
const certCheckEvery = time.Second

// clientCert serves the relay's client certificate, reloading it when its
// files change so that rotated certificates are used without a restart.
type clientCert struct {
	certFile, keyFile string

	mu      sync.Mutex
	checked time.Time
	stamp   [2]time.Time
	cert    *tls.Certificate
}

func newClientCert(certFile, keyFile string) (*clientCert, error) {
	c := &clientCert{certFile: certFile, keyFile: keyFile}
	stamp, err := c.stat()
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load --peer-tls-cert-file: %w", err)
	}
	c.stamp, c.cert, c.checked = stamp, &cert, time.Now()
	return c, nil
}

func (c *clientCert) stat() ([2]time.Time, error) {
	var s [2]time.Time
	for i, f := range []string{c.certFile, c.keyFile} {
		fi, err := os.Stat(f)
		if err != nil {
			return s, fmt.Errorf("stat client certificate: %w", err)
		}
		s[i] = fi.ModTime()
	}
	return s, nil
}

// current returns the certificate, reloaded if its files changed; a failed
// reload keeps the previous one, as files are often replaced one at a time.
func (c *clientCert) current() *tls.Certificate {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if now.Sub(c.checked) < certCheckEvery {
		return c.cert
	}
	c.checked = now
	stamp, err := c.stat()
	if err != nil || stamp == c.stamp {
		return c.cert
	}
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return c.cert
	}
	c.stamp, c.cert = stamp, &cert
	return c.cert
}
