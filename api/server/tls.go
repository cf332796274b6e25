package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// certReloader serves the certificate and client CAs from files, reloading
// them when a file's modification time or size changes. Checks are rate
// limited so handshakes do not stat files each time.
type certReloader struct {
	cfg Config
	log *slog.Logger
	now func() time.Time

	mu      sync.Mutex
	checked time.Time
	stamps  []fileStamp
	config  *tls.Config
}

// reloadCheckEvery bounds how often files are stat'ed.
const reloadCheckEvery = time.Second

type fileStamp struct {
	mod  time.Time
	size int64
}

func newCertReloader(cfg Config, log *slog.Logger) (*certReloader, error) {
	r := &certReloader{cfg: cfg, log: log, now: time.Now}
	stamps, err := r.stat()
	if err != nil {
		return nil, err
	}
	conf, err := r.load()
	if err != nil {
		return nil, err
	}
	r.stamps, r.config, r.checked = stamps, conf, r.now()
	return r, nil
}

// serverConfig is the listener's TLS configuration; per-connection settings
// come from current.
func (r *certReloader) serverConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return r.current(), nil
		},
	}
}

func (r *certReloader) files() []string {
	return append([]string{r.cfg.TLSCertFile, r.cfg.TLSKeyFile}, r.cfg.TLSClientCAFiles...)
}

func (r *certReloader) stat() ([]fileStamp, error) {
	files := r.files()
	stamps := make([]fileStamp, len(files))
	for i, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			return nil, fmt.Errorf("stat TLS file: %w", err)
		}
		stamps[i] = fileStamp{fi.ModTime(), fi.Size()}
	}
	return stamps, nil
}

// current returns the latest configuration, reloading changed files. A
// failed reload keeps serving the previous configuration: files are often
// replaced one at a time.
func (r *certReloader) current() *tls.Config {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if now.Sub(r.checked) < reloadCheckEvery {
		return r.config
	}
	r.checked = now
	stamps, err := r.stat()
	if err != nil {
		r.log.Warn("cannot check TLS files; keeping the loaded ones", "error", err)
		return r.config
	}
	if equalStamps(stamps, r.stamps) {
		return r.config
	}
	conf, err := r.load()
	if err != nil {
		r.log.Warn("cannot reload TLS files; keeping the loaded ones", "error", err)
		return r.config
	}
	r.stamps, r.config = stamps, conf
	r.log.Info("reloaded TLS certificate")
	return r.config
}

func equalStamps(a, b []fileStamp) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].mod.Equal(b[i].mod) || a[i].size != b[i].size {
			return false
		}
	}
	return true
}

func (r *certReloader) load() (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(r.cfg.TLSCertFile, r.cfg.TLSKeyFile)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate: %w", err)
	}
	conf := &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		NextProtos:   []string{"h2"},
	}
	if len(r.cfg.TLSClientCAFiles) == 0 {
		return conf, nil
	}
	pool := x509.NewCertPool()
	for _, f := range r.cfg.TLSClientCAFiles {
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read client CA: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("read client CA %s: %w", f, errors.New("no PEM certificate found"))
		}
	}
	conf.ClientCAs = pool
	conf.ClientAuth = tls.RequireAndVerifyClientCert
	return conf, nil
}
