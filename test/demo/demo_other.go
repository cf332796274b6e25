//go:build !linux

package demo

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
)

// Run fails: the demo builds Linux network namespaces.
func Run(context.Context, Config, *slog.Logger) error {
	return fmt.Errorf("run demo: needs Linux network namespaces, not %s", runtime.GOOS)
}
