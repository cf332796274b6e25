//go:build linux

package cluster

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// ipCommand runs `ip args...` and returns its stdout.
func ipCommand(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "ip", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("run ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// ipBatch runs several ip commands in one process, inside netns when it is
// not empty; one exec per namespace keeps building a cluster fast.
func ipBatch(ctx context.Context, netns string, lines []string) error {
	return batch(ctx, "ip", netns, lines)
}

// bridgeBatch runs several bridge commands (FDB entries) as ipBatch runs ip
// commands.
func bridgeBatch(ctx context.Context, netns string, lines []string) error {
	return batch(ctx, "bridge", netns, lines)
}

// batch runs lines through iproute2's tool in one process.
func batch(ctx context.Context, tool, netns string, lines []string) error {
	args := []string{"-batch", "-"}
	if netns != "" {
		args = append([]string{"-n", netns}, args...)
	}
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("run %s batch in netns %q: %w: %s", tool, netns, err, strings.TrimSpace(out.String()))
	}
	return nil
}
