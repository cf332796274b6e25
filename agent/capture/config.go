package capture

import (
	"fmt"
	"time"

	"github.com/spf13/pflag"
)

// The capture flags of the agent. Flags registers them and Validate's
// errors name them.
const (
	flagDir           = "capture-dir"
	flagMaxConcurrent = "capture-max-concurrent"
	flagMaxStored     = "capture-max-stored-bytes"
	flagMaxDuration   = "capture-max-duration"
)

// Defaults of a request's limits, and the largest snap length (tcpdump's).
const (
	DefaultDuration   = time.Minute
	DefaultMaxBytes   = 100 << 20
	DefaultSnapLength = 262144
	minSnapLength     = 64
)

// Config bounds the node's captures.
type Config struct {
	// Dir holds the pcapng files of the node's captures. What it holds at
	// start is removed: a capture's file lives as long as the agent.
	Dir string
	// MaxConcurrent is how many captures run at once.
	MaxConcurrent int
	// MaxStoredBytes bounds the captures' files together, running ones
	// counted at their size limit.
	MaxStoredBytes int64
	// MaxDuration is the longest duration a request may ask for.
	MaxDuration time.Duration
}

// Flags registers the capture flags, bound to c's fields.
func (c *Config) Flags(fs *pflag.FlagSet) {
	fs.StringVar(&c.Dir, flagDir, "/var/run/fovea/captures", "directory of the packet captures' pcapng files (emptied at start)")
	fs.IntVar(&c.MaxConcurrent, flagMaxConcurrent, 4, "packet captures that may run at once on the node")
	fs.Int64Var(&c.MaxStoredBytes, flagMaxStored, 1<<30,
		"bytes the packet captures' files may take together; the oldest finished ones are removed to make room")
	fs.DurationVar(&c.MaxDuration, flagMaxDuration, time.Hour, "longest packet capture a request may ask for")
}

// Validate reports the first invalid setting, named as its flag.
func (c Config) Validate() error {
	switch {
	case c.Dir == "":
		return fmt.Errorf("--%s: must be set", flagDir)
	case c.MaxConcurrent < 1:
		return fmt.Errorf("--%s: %d must be at least 1", flagMaxConcurrent, c.MaxConcurrent)
	case c.MaxStoredBytes < 1<<20:
		return fmt.Errorf("--%s: %d must be at least 1 MiB", flagMaxStored, c.MaxStoredBytes)
	case c.MaxDuration <= 0:
		return fmt.Errorf("--%s: %v must be positive", flagMaxDuration, c.MaxDuration)
	}
	return nil
}
