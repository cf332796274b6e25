package windows

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// capture is the node's PktMon capture, which makes the PktMon driver log
// packets at all: enabling its ETW provider alone yields nothing.
type capture struct {
	exe string
	log *slog.Logger
}

// pktmon runs PktMon.exe (part of Windows since 10 1809 / Server 2019).
func (c *capture) pktmon(ctx context.Context, args ...string) error {
	out, err := exec.CommandContext(ctx, c.exe, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", c.exe, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// startCapture stops whatever capture runs (PktMon runs one per node; a
// crashed agent's would otherwise stay) and starts one on every component
// with packets of up to pktSize bytes, logged to memory only: the agent
// reads them from ETW.
func startCapture(ctx context.Context, log *slog.Logger, pktSize int) (*capture, error) {
	c := &capture{exe: filepath.Join(os.Getenv("SystemRoot"), "System32", "PktMon.exe"), log: log}
	if _, err := os.Stat(c.exe); err != nil {
		return nil, fmt.Errorf("start PktMon capture: %w (PktMon ships with Windows Server 2019 and later)", err)
	}
	if err := c.pktmon(ctx, "stop"); err == nil {
		log.Info("stopped a PktMon capture that was running", "exe", c.exe)
	}
	if err := c.pktmon(ctx, "start", "--capture", "--pkt-size", strconv.Itoa(pktSize),
		"--flags", "0x10", "--log-mode", "memory"); err != nil {
		return nil, fmt.Errorf("start PktMon capture: %w", err)
	}
	return c, nil
}

// stop stops the capture.
func (c *capture) stop(ctx context.Context) error {
	if err := c.pktmon(ctx, "stop"); err != nil {
		return fmt.Errorf("stop PktMon capture: %w", err)
	}
	return nil
}

// components lists PktMon's components (`pktmon list --json`), whose ids
// events name: the component rundown reaches ETW only when a capture
// stops.
func (c *capture) components(ctx context.Context) ([]Component, error) {
	out, err := exec.CommandContext(ctx, c.exe, "list", "--json").Output()
	if err != nil {
		return nil, fmt.Errorf("%s list --json: %w", c.exe, err)
	}
	return ParseComponentList(out)
}
