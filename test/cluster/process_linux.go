//go:build linux

package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// DefaultStopTimeout is how long Stop waits after SIGTERM before SIGKILL.
const DefaultStopTimeout = 5 * time.Second

// ProcessSpec describes a long-running process to start in a namespace.
type ProcessSpec struct {
	// Name names the log files: <LogDir>/<Name>.stdout.log and .stderr.log.
	Name string
	// Path is the executable; Args are its arguments (without argv[0]).
	Path string
	Args []string
	// Env is the environment; nil inherits ours.
	Env []string
	// LogDir receives the log files; created if missing.
	LogDir string
	// StopTimeout bounds the wait between SIGTERM and SIGKILL.
	StopTimeout time.Duration
}

// Process is a process started by Netns.Start.
type Process struct {
	Pid        int
	StdoutPath string
	StderrPath string

	cancel   context.CancelFunc
	stopping chan struct{}
	done     chan struct{}
	err      error
}

// Start runs spec inside the namespace via `ip netns exec`, which execs the
// program, so Pid is the program's own pid. The process gets its own process
// group and SIGKILL if our thread that started it dies, so a crashed harness
// does not leave it running. Cancelling ctx stops it like Stop.
func (n *Netns) Start(ctx context.Context, spec ProcessSpec) (*Process, error) {
	if spec.Name == "" || filepath.Base(spec.Name) != spec.Name {
		return nil, fmt.Errorf("invalid ProcessSpec.Name %q: want a plain file name", spec.Name)
	}
	if spec.Path == "" {
		return nil, fmt.Errorf("invalid ProcessSpec.Path: empty")
	}
	if spec.LogDir == "" {
		return nil, fmt.Errorf("invalid ProcessSpec.LogDir: empty")
	}
	if spec.StopTimeout <= 0 {
		spec.StopTimeout = DefaultStopTimeout
	}
	if err := os.MkdirAll(spec.LogDir, 0o755); err != nil {
		return nil, fmt.Errorf("create log dir: %w", err)
	}
	p := &Process{
		StdoutPath: filepath.Join(spec.LogDir, spec.Name+".stdout.log"),
		StderrPath: filepath.Join(spec.LogDir, spec.Name+".stderr.log"),
		stopping:   make(chan struct{}),
		done:       make(chan struct{}),
	}
	stdout, err := os.Create(p.StdoutPath)
	if err != nil {
		return nil, fmt.Errorf("create stdout log: %w", err)
	}
	defer stdout.Close()
	stderr, err := os.Create(p.StderrPath)
	if err != nil {
		return nil, fmt.Errorf("create stderr log: %w", err)
	}
	defer stderr.Close()

	ctx, p.cancel = context.WithCancel(ctx)
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", n.name, spec.Path}, spec.Args...)...)
	cmd.Env = spec.Env
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error {
		close(p.stopping)
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	}
	cmd.WaitDelay = spec.StopTimeout
	if err := cmd.Start(); err != nil {
		p.cancel()
		return nil, fmt.Errorf("start %s in netns %s: %w", spec.Path, n.name, err)
	}
	p.Pid = cmd.Process.Pid
	go func() {
		p.err = cmd.Wait()
		// Reap anything the program left in its group.
		_ = syscall.Kill(-p.Pid, syscall.SIGKILL)
		close(p.done)
	}()
	return p, nil
}

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err returns how the process ended once Done is closed. An exit caused by
// Stop (or the start context) is not an error.
func (p *Process) Err() error {
	<-p.done
	var exitErr *exec.ExitError
	select {
	case <-p.stopping:
		// os/exec reports a context-stopped command as ctx.Err().
		if errors.As(p.err, &exitErr) || errors.Is(p.err, exec.ErrWaitDelay) ||
			errors.Is(p.err, context.Canceled) || errors.Is(p.err, context.DeadlineExceeded) {
			return nil
		}
	default:
	}
	return p.err
}

// Stop sends SIGTERM to the process group, SIGKILL after the stop timeout,
// and waits for the exit.
func (p *Process) Stop() error {
	p.cancel()
	return p.Err()
}
