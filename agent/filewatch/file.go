package filewatch

import (
	"fmt"
	"os"
	"time"
)

// File is a watched file. Its methods are not safe for concurrent use: one
// watcher goroutine owns it.
type File struct {
	path string
	// what names the file in errors: "inventory".
	what string
	// stamp is the file's when it was last read, good or bad, or of its
	// absence (the zero stamp), so each state is acted on once.
	stamp stamp
}

type stamp struct {
	mod  time.Time
	size int64
}

// New returns the watched file at path, named what in errors.
func New(path, what string) *File { return &File{path: path, what: what} }

// Read reads the file, whatever its state, and remembers the state it read.
func (f *File) Read() ([]byte, error) {
	st, err := f.statFile()
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(f.path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", f.what, err)
	}
	f.stamp = st
	return data, nil
}

// Changed reads the file if it changed since the last Read or Changed:
// changed is false when it did not. A file gone missing is an error once,
// until it changes again.
func (f *File) Changed() (data []byte, changed bool, err error) {
	st, err := f.statFile()
	if st == f.stamp {
		return nil, false, nil
	}
	if err != nil {
		f.stamp = st
		return nil, true, err
	}
	data, err = f.Read()
	return data, true, err
}

func (f *File) statFile() (stamp, error) {
	fi, err := os.Stat(f.path)
	if err != nil {
		return stamp{}, fmt.Errorf("stat %s: %w", f.what, err)
	}
	return stamp{mod: fi.ModTime(), size: fi.Size()}, nil
}
