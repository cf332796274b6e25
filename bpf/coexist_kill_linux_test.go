//go:build linux

package bpf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
)

// A SIGKILLed agent is a process: the veth test's child re-executes itself
// once more with agentEnv set to the attach mode, and that process runs a
// source until killed. It writes agentReady and its programs' ids on
// stdout once attached.
const (
	agentEnv   = "FOVEA_BPF_TEST_AGENT"
	agentReady = "fovea-test-agent-ready"
)

// testKilled kills an agent attached beside the other owner's programs and
// starts one again: the killed agent's tcx links go with its process and
// its tc filters stay behind, passing packets on, until the next start
// replaces them; the others' programs and forwarding never change.
func (n *coexistNode) testKilled(t *testing.T, forceTC bool) {
	a := startAgent(t, forceTC)
	n.checkHooks(t, "agent running", a.progs)
	n.checkForwarding(t, "agent running")
	a.kill(t)
	var left *ourProgs
	if forceTC {
		left = a.progs
	}
	n.checkHooks(t, "agent killed", left)
	n.checkForwarding(t, "agent killed")

	var opts []Option
	if forceTC {
		opts = append(opts, withForceTC())
	}
	c := startCapture(t, coexistConfig(), opts...)
	c.waitHook(t, hostIf+":true", 5*time.Second)
	c.waitHook(t, clientIf+":true", 5*time.Second)
	n.checkHooks(t, "restarted", sourceProgs(t, c.src, forceTC))
	n.checkForwarding(t, "restarted")
	n.checkReports(t, c, !forceTC)
	c.stop(t)
	n.checkHooks(t, "stopped", nil)
	n.checkForwarding(t, "stopped")
}

// agentProc is an agent process attached to the node's veths.
type agentProc struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer // read once done has delivered
	done   chan error   // Wait's result
	progs  *ourProgs
}

func startAgent(t *testing.T, forceTC bool) *agentProc {
	t.Helper()
	mode := "tcx"
	if forceTC {
		mode = "tc"
	}
	a := &agentProc{cmd: exec.Command(os.Args[0], "-test.run=^TestCaptureVeth$", "-test.count=1"), done: make(chan error, 1)}
	a.cmd.Env = append(os.Environ(), agentEnv+"="+mode)
	ready := &readyWriter{line: make(chan string, 1)}
	a.cmd.Stdout, a.cmd.Stderr = ready, &a.stderr
	if err := a.cmd.Start(); err != nil {
		t.Fatalf("start agent: %v", err)
	}
	go func() { a.done <- a.cmd.Wait() }()
	t.Cleanup(func() {
		if a.done != nil {
			_ = a.cmd.Process.Kill()
			<-a.done
		}
	})
	select {
	case line := <-ready.line:
		var in, eg ebpf.ProgramID
		if _, err := fmt.Sscanf(line, agentReady+" %d %d", &in, &eg); err != nil {
			t.Fatalf("agent said %q: %v", line, err)
		}
		a.progs = &ourProgs{tc: forceTC, ingress: in, egress: eg}
		return a
	case err := <-a.done:
		a.done = nil
		t.Fatalf("agent exited before it was ready: %v\n%s", err, &a.stderr)
	case <-time.After(time.Minute):
		a.kill(t)
		t.Fatalf("agent not ready within a minute:\n%s", &a.stderr)
	}
	return nil
}

// kill sends SIGKILL and waits for the process to be gone, and with it
// whatever the kernel releases when a process exits.
func (a *agentProc) kill(t *testing.T) {
	t.Helper()
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill agent: %v", err)
	}
	err := <-a.done
	a.done = nil
	ee, ok := errors.AsType[*exec.ExitError](err)
	if !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("agent ended with %v, want killed:\n%s", err, &a.stderr)
	}
}

// readyWriter passes on the agent's ready line.
type readyWriter struct {
	mu   sync.Mutex
	buf  []byte
	line chan string
}

func (w *readyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := string(w.buf[:i])
		w.buf = w.buf[i+1:]
		if strings.HasPrefix(line, agentReady) {
			w.line <- line
		}
	}
}

// runAgent is the agent process: a source on the node's veths, in the
// attach mode named, until killed.
func runAgent(t *testing.T, mode string) {
	var opts []Option
	if mode == "tc" {
		opts = append(opts, withForceTC())
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ready := make(chan struct{})
	src, err := NewSource(coexistConfig(), log, intern.NewTables(),
		append(opts, WithReady(func() { close(ready) }))...)
	if err != nil {
		t.Fatalf("NewSource: %v", err)
	}
	progs := sourceProgs(t, src, mode == "tc")
	go func() {
		<-ready
		fmt.Printf("%s %d %d\n", agentReady, progs.ingress, progs.egress)
	}()
	err = src.Run(context.Background(), func(*record.Record) {})
	t.Fatalf("Run returned before the agent was killed: %v", err)
}
