package filewatch

import (
	"context"
	"time"

	"github.com/foveanet/fovea/agent/periodic"
)

// Load reads the file and applies its content once.
func (f *File) Load(apply func([]byte) error) error {
	data, err := f.Read()
	if err != nil {
		return err
	}
	return apply(data)
}

// Poll checks the file every interval until ctx ends and applies its
// content whenever it changed. An error reading or applying it goes to
// fail, once per change, and whatever was applied before stays in use.
func (f *File) Poll(ctx context.Context, interval time.Duration, apply func([]byte) error, fail func(error)) error {
	return periodic.Run(ctx, interval, func() error {
		data, changed, err := f.Changed()
		if !changed {
			return nil
		}
		if err == nil {
			err = apply(data)
		}
		if err != nil {
			fail(err)
		}
		return nil
	})
}
