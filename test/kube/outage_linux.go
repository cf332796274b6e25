//go:build linux

package kube

import (
	"context"
	"fmt"
	"syscall"
	"time"
)

// Outages of the API server, for tests of the clients' resilience: etcd and
// its data stay, so objects created before an outage are there after it.

// KillAPIServer kills kube-apiserver (SIGKILL, as a crash or an OOM kill
// would) and waits until it has exited; clients' connections are reset and
// new ones refused until RestartAPIServer.
func (cp *ControlPlane) KillAPIServer() {
	cp.api.kill()
}

// RestartAPIServer starts kube-apiserver again, on the same address, port,
// certificates and etcd, after KillAPIServer, and waits until it is ready.
func (cp *ControlPlane) RestartAPIServer(ctx context.Context) error {
	if err := cp.api.exited(); err == nil {
		return fmt.Errorf("restart kube-apiserver: it is still running")
	}
	api, err := start(cp.cfg.Dir, cp.cfg.Netns, "kube-apiserver", cp.cfg.APIServerBin, cp.apiArgs...)
	if err != nil {
		return fmt.Errorf("restart kube-apiserver: %w", err)
	}
	cp.api = api
	return cp.waitReady(ctx, 2*time.Minute)
}

// PauseAPIServer stops kube-apiserver (SIGSTOP): connections stay open and
// new ones are accepted by the kernel, but nothing answers, as with a
// server too slow to respond, until ResumeAPIServer.
func (cp *ControlPlane) PauseAPIServer() error {
	return cp.api.signal(syscall.SIGSTOP)
}

// ResumeAPIServer continues kube-apiserver (SIGCONT) after PauseAPIServer.
func (cp *ControlPlane) ResumeAPIServer() error {
	return cp.api.signal(syscall.SIGCONT)
}
