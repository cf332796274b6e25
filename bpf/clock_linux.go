//go:build linux

package bpf

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// bootToUnixOffset returns CLOCK_REALTIME minus CLOCK_BOOTTIME in
// nanoseconds, the value that turns bpf_ktime_get_boot_ns() into Unix time.
// Reading the boot clock on both sides of the real-time clock and taking the
// midpoint halves the error from the reads themselves.
func bootToUnixOffset() (int64, error) {
	var before, real, after unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &before); err != nil {
		return 0, fmt.Errorf("read boot clock: %w", err)
	}
	if err := unix.ClockGettime(unix.CLOCK_REALTIME, &real); err != nil {
		return 0, fmt.Errorf("read real-time clock: %w", err)
	}
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &after); err != nil {
		return 0, fmt.Errorf("read boot clock: %w", err)
	}
	boot := before.Nano() + (after.Nano()-before.Nano())/2
	return real.Nano() - boot, nil
}
