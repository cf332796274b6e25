//go:build linux

package kube

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// process is a server binary run for the control plane's lifetime.
type process struct {
	name, logPath string
	cmd           *exec.Cmd
	done          chan struct{}
	err           error
}

// start runs path with args, in netns if set, logging to
// <dir>/<name>.log (appended to, so a restart keeps the earlier run's
// log). The child gets SIGKILL if the test process dies.
func start(dir, netns, name, path string, args ...string) (*process, error) {
	logPath := filepath.Join(dir, name+".log")
	log, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create %s log: %w", name, err)
	}
	defer log.Close()
	if netns != "" {
		args = append([]string{"netns", "exec", netns, path}, args...)
		path = "ip"
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, logPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// stop sends SIGTERM, then SIGKILL after 10 s, and waits for the exit.
func (p *process) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	// Signalling a process that has just exited fails harmlessly. A
	// paused process only acts on SIGTERM once continued.
	_ = p.signal(syscall.SIGTERM)
	_ = p.signal(syscall.SIGCONT)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// kill sends SIGKILL and waits for the exit.
func (p *process) kill() {
	_ = p.signal(syscall.SIGKILL) // fails harmlessly if it has exited
	<-p.done
}

// signal sends sig to the process's group: `ip netns exec` execs the
// server, which leads its own group (Setpgid), so this reaches the server
// whether or not it runs in a namespace.
func (p *process) signal(sig syscall.Signal) error {
	if err := syscall.Kill(-p.cmd.Process.Pid, sig); err != nil {
		return fmt.Errorf("send %v to %s: %w", sig, p.name, err)
	}
	return nil
}

// exited reports an error if the process has already ended.
func (p *process) exited() error {
	select {
	case <-p.done:
		return fmt.Errorf("%s exited: %v (log in %s)", p.name, p.err, p.logPath)
	default:
		return nil
	}
}
