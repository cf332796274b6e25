package kube

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
)

// Environment variables naming the binaries, set by `make unit` and `make e2e`.
const (
	EtcdBinEnv      = "ETCD_BIN"
	APIServerBinEnv = "KUBE_APISERVER_BIN"
)

// Config describes a control plane to start.
type Config struct {
	// EtcdBin and APIServerBin are the binaries; empty means the ETCD_BIN
	// and KUBE_APISERVER_BIN environment variables.
	EtcdBin, APIServerBin string
	// Dir holds etcd's data, keys, certificates and logs; it must exist.
	Dir string
	// Address is where kube-apiserver listens and what it advertises;
	// the zero value means 127.0.0.1.
	Address netip.Addr
	// Netns, if set, names the network namespace (`ip netns exec`) both
	// servers run in, for an Address only that namespace holds.
	Netns string
	// Dial connects this process to Address; nil means net.Dialer. Set it
	// when Address is not reachable from the calling process's namespace.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Logger receives progress; nil discards it.
	Logger *slog.Logger
	// ServiceAccountAdmission runs the ServiceAccount admission plugin,
	// which mounts each pod's token, for clusters with a controller
	// manager to create the accounts it requires.
	ServiceAccountAdmission bool
}

func (c Config) withDefaults() (Config, error) {
	if c.EtcdBin == "" {
		c.EtcdBin = os.Getenv(EtcdBinEnv)
	}
	if c.APIServerBin == "" {
		c.APIServerBin = os.Getenv(APIServerBinEnv)
	}
	for env, path := range map[string]string{EtcdBinEnv: c.EtcdBin, APIServerBinEnv: c.APIServerBin} {
		if path == "" {
			return c, fmt.Errorf("%s is not set: build the binaries with `make kube-tools` and run the tests through make", env)
		}
		if _, err := os.Stat(path); err != nil {
			return c, fmt.Errorf("%s: %w (build it with `make kube-tools`)", env, err)
		}
	}
	if c.Dir == "" {
		return c, fmt.Errorf("invalid Config.Dir: empty")
	}
	if !c.Address.IsValid() {
		c.Address = netip.MustParseAddr("127.0.0.1")
	}
	if c.Dial == nil {
		c.Dial = (&net.Dialer{}).DialContext
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}
