//go:build linux

package kube

import (
	"bytes"
	"context"
	"fmt"
	"os"
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
// It returns once every thread has stopped: a signal is delivered
// asynchronously, and a thread still running could answer one more request.
func (cp *ControlPlane) PauseAPIServer() error {
	if err := cp.api.signal(syscall.SIGSTOP); err != nil {
		return err
	}
	return waitStopped(cp.api.cmd.Process.Pid, 10*time.Second)
}

// waitStopped waits until every thread of process pid is stopped.
func waitStopped(pid int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		running, err := runningThreads(pid)
		if err != nil {
			return fmt.Errorf("wait for kube-apiserver to stop: %w", err)
		}
		if running == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("wait for kube-apiserver to stop: %d threads still running after %v", running, limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// runningThreads counts the threads of process pid not stopped: neither
// stopped by a signal (T), traced (t), nor exiting (Z, X).
func runningThreads(pid int) (int, error) {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, task := range tasks {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/stat", pid, task.Name()))
		if err != nil {
			continue // the thread exited
		}
		// The state follows the command name, which ends at the last ')'.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 || i+2 >= len(stat) {
			return 0, fmt.Errorf("parse /proc/%d/task/%s/stat", pid, task.Name())
		}
		switch stat[i+2] {
		case 'T', 't', 'Z', 'X':
		default:
			n++
		}
	}
	return n, nil
}

// ResumeAPIServer continues kube-apiserver (SIGCONT) after PauseAPIServer.
func (cp *ControlPlane) ResumeAPIServer() error {
	return cp.api.signal(syscall.SIGCONT)
}
