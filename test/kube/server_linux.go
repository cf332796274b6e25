//go:build linux

package kube

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/foveanet/fovea/test/cluster"
)

// ControlPlane is a running etcd and kube-apiserver.
type ControlPlane struct {
	// Host is the API server's URL, such as https://127.0.0.1:6443.
	Host string
	// CA verifies the API server's serving certificate.
	CA []byte
	// AdminToken authenticates as a member of system:masters.
	AdminToken string
	// Admin is a clientset with AdminToken.
	Admin kubernetes.Interface
	// CAFile holds CA; ServiceAccountKeyFile the key that signs service
	// account tokens (a controller manager takes both).
	CAFile, ServiceAccountKeyFile string

	cfg       Config
	etcd, api *process
	// apiArgs start kube-apiserver again on the same port and etcd.
	apiArgs []string
}

// ServiceCIDR is the range Services get their cluster IPs from.
const ServiceCIDR = "10.96.0.0/16"

// Start starts etcd, then kube-apiserver, and waits until the API server is
// ready. Close stops both.
func Start(ctx context.Context, cfg Config) (*ControlPlane, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ports, err := freePorts(cfg.Netns, 3)
	if err != nil {
		return nil, err
	}
	cp := &ControlPlane{cfg: cfg, AdminToken: randomToken()}
	fail := func(err error) (*ControlPlane, error) {
		cp.Close()
		return nil, err
	}

	etcdURL := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	peerURL := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	// No fsync: the data is thrown away, and fsync dominates etcd's
	// latency on CI disks.
	cp.etcd, err = start(cfg.Dir, cfg.Netns, "etcd", cfg.EtcdBin,
		"--name", "test", "--data-dir", filepath.Join(cfg.Dir, "etcd"),
		"--listen-client-urls", etcdURL, "--advertise-client-urls", etcdURL,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "test="+peerURL, "--unsafe-no-fsync", "--log-level", "warn")
	if err != nil {
		return fail(err)
	}

	certPath, keyPath := filepath.Join(cfg.Dir, "apiserver.crt"), filepath.Join(cfg.Dir, "apiserver.key")
	if cp.CA, err = writeServingCert(certPath, keyPath, cfg.Address); err != nil {
		return fail(err)
	}
	cp.CAFile = certPath
	saKey := filepath.Join(cfg.Dir, "service-account.key")
	cp.ServiceAccountKeyFile = saKey
	if err := writeServiceAccountKey(saKey); err != nil {
		return fail(err)
	}
	tokens := filepath.Join(cfg.Dir, "tokens.csv")
	if err := os.WriteFile(tokens, []byte(cp.AdminToken+`,admin,admin,"system:masters"`+"\n"), 0o600); err != nil {
		return fail(fmt.Errorf("write token file: %w", err))
	}
	apiPort := ports[2]
	cp.Host = "https://" + net.JoinHostPort(cfg.Address.String(), strconv.Itoa(apiPort))
	// Without a controller manager nothing creates the default service
	// accounts, so the ServiceAccount admission plugin would reject every
	// pod; tests create the objects a controller would, unless they run
	// one (Config.ServiceAccountAdmission). Privileged and
	// HostProcess pods are allowed, as kubeadm's clusters allow them, so
	// that the Helm chart's Windows agent can be created.
	cp.apiArgs = []string{"--etcd-servers", etcdURL, "--allow-privileged=true",
		"--bind-address", cfg.Address.String(), "--advertise-address", cfg.Address.String(),
		"--secure-port", strconv.Itoa(apiPort), "--cert-dir", filepath.Join(cfg.Dir, "certs"),
		"--tls-cert-file", certPath, "--tls-private-key-file", keyPath,
		"--service-account-key-file", saKey, "--service-account-signing-key-file", saKey,
		"--service-account-issuer", "https://kubernetes.default.svc",
		"--token-auth-file", tokens, "--authorization-mode", "RBAC",
		"--service-cluster-ip-range", ServiceCIDR}
	if !cfg.ServiceAccountAdmission {
		cp.apiArgs = append(cp.apiArgs, "--disable-admission-plugins", "ServiceAccount")
	}
	if cp.api, err = start(cfg.Dir, cfg.Netns, "kube-apiserver", cfg.APIServerBin, cp.apiArgs...); err != nil {
		return fail(err)
	}
	if cp.Admin, err = kubernetes.NewForConfig(cp.RESTConfig(cp.AdminToken)); err != nil {
		return fail(fmt.Errorf("create admin client: %w", err))
	}
	if err := cp.waitReady(ctx, 2*time.Minute); err != nil {
		return fail(err)
	}
	cfg.Logger.Info("control plane ready", "host", cp.Host, "dir", cfg.Dir)
	return cp, nil
}

// RESTConfig returns a client configuration authenticating with token.
func (cp *ControlPlane) RESTConfig(token string) *rest.Config {
	return &rest.Config{
		Host: cp.Host, BearerToken: token,
		TLSClientConfig: rest.TLSClientConfig{CAData: cp.CA},
		Dial:            cp.cfg.Dial,
		QPS:             100, Burst: 200,
	}
}

// waitReady polls /readyz until it answers ok, either server exits or limit
// passes.
func (cp *ControlPlane) waitReady(ctx context.Context, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var last error
	for {
		for _, p := range []*process{cp.etcd, cp.api} {
			if err := p.exited(); err != nil {
				return err
			}
		}
		body, err := cp.Admin.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err == nil && string(body) == "ok" {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("readyz: %s", body)
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("kube-apiserver not ready after %v (logs in %s): %w", limit, cp.cfg.Dir, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Close stops kube-apiserver, then etcd, and waits for both to exit.
func (cp *ControlPlane) Close() {
	for _, p := range []*process{cp.api, cp.etcd} {
		if p != nil {
			p.stop()
		}
	}
}

// freePorts returns n TCP ports free in netns (ours if empty), holding them
// all until every one is chosen so they differ.
func freePorts(netns string, n int) ([]int, error) {
	var ports []int
	pick := func() error {
		var listeners []net.Listener
		defer func() {
			for _, l := range listeners {
				l.Close()
			}
		}()
		for range n {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return fmt.Errorf("pick a free port: %w", err)
			}
			listeners = append(listeners, l)
			ports = append(ports, l.Addr().(*net.TCPAddr).Port)
		}
		return nil
	}
	if netns == "" {
		return ports, pick()
	}
	return ports, cluster.NewNetns(netns).Do(pick)
}

// NetnsDialer returns a Config.Dial that connects from inside netns.
func NetnsDialer(netns string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	ns := cluster.NewNetns(netns)
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var conn net.Conn
		// The socket belongs to the namespace of the thread that creates
		// it, and stays there once Do switches the thread back.
		err := ns.Do(func() error {
			var err error
			conn, err = (&net.Dialer{}).DialContext(ctx, network, addr)
			return err
		})
		return conn, err
	}
}

func randomToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand documents it)
	return hex.EncodeToString(b)
}
