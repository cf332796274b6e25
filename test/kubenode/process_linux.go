//go:build linux

package kubenode

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// process is a component of the node, run in the node's network namespace
// (and the host's mount namespace, which the kubelet and containerd must
// share: containers bind-mount what the kubelet mounts).
type process struct {
	name, logPath string
	cmd           *exec.Cmd
	done          chan struct{}
	err           error
}

// startIn runs path in netns with nsenter, logging to dir/name.log; prefix,
// if any, runs before nsenter (the kubelet's mount namespace setup).
func startIn(dir, netns, name string, prefix []string, path string, args ...string) (*process, error) {
	logPath := filepath.Join(dir, name+".log")
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	argv := append(append(prefix, "nsenter", "--net=/run/netns/"+netns, "--", path), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = log, log
	// Its own process group, so that stop reaches what it forks; killed if
	// the test dies.
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

// exited returns an error if the process has ended.
func (p *process) exited() error {
	select {
	case <-p.done:
		tail, _ := os.ReadFile(p.logPath)
		if len(tail) > 2000 {
			tail = tail[len(tail)-2000:]
		}
		return fmt.Errorf("%s exited: %v\n%s", p.name, p.err, tail)
	default:
		return nil
	}
}

// stop sends SIGTERM to the process group, SIGKILL after 10 s, and waits.
func (p *process) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}
