//go:build linux

package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// netnsDir is where `ip netns` keeps the bind mounts naming namespaces.
const netnsDir = "/run/netns"

// Netns is a named network namespace as `ip netns` manages it.
type Netns struct {
	name string
}

// NewNetns returns a handle on the existing namespace name.
func NewNetns(name string) *Netns { return &Netns{name: name} }

// Name returns the namespace name.
func (n *Netns) Name() string { return n.name }

// Path returns the file naming the namespace.
func (n *Netns) Path() string { return filepath.Join(netnsDir, n.name) }

// Do runs fn on the calling goroutine's OS thread switched into the
// namespace and switches back afterwards. Sockets fn creates stay in the
// namespace and may be used from any goroutine later; goroutines fn starts
// do not run inside the namespace.
func (n *Netns) Do(fn func() error) (err error) {
	target, err := os.Open(n.Path())
	if err != nil {
		return fmt.Errorf("open netns %s: %w", n.name, err)
	}
	defer target.Close()

	runtime.LockOSThread()
	orig, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("open current netns: %w", err)
	}
	defer orig.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("enter netns %s: %w", n.name, err)
	}
	defer func() {
		if rerr := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); rerr != nil {
			// Keep the thread locked: the runtime then discards it when
			// the goroutine exits instead of reusing a thread left in
			// the wrong namespace.
			err = errors.Join(err, fmt.Errorf("leave netns %s: %w", n.name, rerr))
			return
		}
		runtime.UnlockOSThread()
	}()
	return fn()
}

// Exec runs a command inside the namespace (`ip netns exec`) and returns
// its combined output; a failing command's error includes that output.
func (n *Netns) Exec(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", n.name, name}, args...)...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("run %s in netns %s: %w: %s", name, n.name, err, strings.TrimSpace(out.String()))
	}
	return out.Bytes(), nil
}

// SetSysctl writes a net sysctl ("net.ipv4.ip_forward") inside the
// namespace; /proc/sys/net shows the namespace of the writing thread.
func (n *Netns) SetSysctl(key, value string) error {
	path := filepath.Join("/proc/sys", strings.ReplaceAll(key, ".", "/"))
	return n.Do(func() error {
		if err := os.WriteFile(path, []byte(value), 0); err != nil {
			return fmt.Errorf("set sysctl %s in netns %s: %w", key, n.name, err)
		}
		return nil
	})
}
