//go:build linux

package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// killGrace is how long leftover processes get between SIGTERM and SIGKILL.
const killGrace = 2 * time.Second

// Cleanup removes everything a cluster built with prefix may have left:
// processes running in its namespaces (found by namespace membership, so no
// stale pid file can name an unrelated process), the namespaces, and links
// in the root namespace whose name starts with prefix. It is safe to call
// when nothing is left.
func Cleanup(ctx context.Context, prefix string, logger *slog.Logger) error {
	if err := ValidatePrefix(prefix); err != nil {
		return err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	names, err := prefixedNetns(ctx, prefix)
	if err != nil {
		return err
	}
	var errs []error
	if err := killNetnsProcesses(ctx, names, logger); err != nil {
		errs = append(errs, err)
	}
	for _, name := range names {
		if _, err := ipCommand(ctx, "netns", "delete", name); err != nil {
			errs = append(errs, err)
			continue
		}
		logger.Debug("netns deleted", "netns", name)
	}
	links, err := prefixedLinks(ctx, prefix)
	if err != nil {
		errs = append(errs, err)
	}
	for _, link := range links {
		if _, err := ipCommand(ctx, "link", "delete", link); err != nil {
			errs = append(errs, err)
			continue
		}
		logger.Debug("link deleted", "link", link)
	}
	if len(names)+len(links) > 0 {
		logger.Info("cluster cleaned up", "prefix", prefix, "netns", len(names), "links", len(links))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("clean up prefix %q: %w", prefix, err)
	}
	return nil
}

// prefixedNetns lists named namespaces starting with prefix.
func prefixedNetns(ctx context.Context, prefix string) ([]string, error) {
	out, err := ipCommand(ctx, "netns", "list")
	if err != nil {
		return nil, err
	}
	var names []string
	for line := range strings.Lines(out) {
		// Lines read "name" or "name (id: 3)".
		fields := strings.Fields(line)
		if len(fields) > 0 && strings.HasPrefix(fields[0], prefix) {
			names = append(names, fields[0])
		}
	}
	return names, nil
}

// prefixedLinks lists links of the root namespace starting with prefix.
func prefixedLinks(ctx context.Context, prefix string) ([]string, error) {
	out, err := ipCommand(ctx, "-o", "link", "show")
	if err != nil {
		return nil, err
	}
	var links []string
	for line := range strings.Lines(out) {
		// Lines read "4: name@peer: <FLAGS> ...".
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimSuffix(fields[1], ":"), "@")
		if strings.HasPrefix(name, prefix) {
			links = append(links, name)
		}
	}
	return links, nil
}

// killNetnsProcesses sends SIGTERM to every process in the namespaces,
// waits up to killGrace, then SIGKILLs the rest.
func killNetnsProcesses(ctx context.Context, names []string, logger *slog.Logger) error {
	var pids []int
	for _, name := range names {
		out, err := ipCommand(ctx, "netns", "pids", name)
		if err != nil {
			return err
		}
		for _, f := range strings.Fields(out) {
			pid, err := strconv.Atoi(f)
			// Our own process shows up when a goroutine's thread is
			// inside the namespace; never signal ourselves.
			if err != nil || pid == os.Getpid() {
				continue
			}
			pids = append(pids, pid)
			logger.Info("stopping leftover process", "netns", name, "pid", pid)
		}
	}
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGTERM)
	}
	deadline := time.Now().Add(killGrace)
	for len(pids) > 0 && time.Now().Before(deadline) {
		pids = slices.DeleteFunc(pids, func(pid int) bool {
			return syscall.Kill(pid, 0) != nil
		})
		time.Sleep(20 * time.Millisecond)
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("kill process %d: %w", pid, err)
		}
	}
	return nil
}
