package main

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/foveanet/fovea/api/capture/capturepb"
	"github.com/foveanet/fovea/api/pcapng"
)

// output writes a capture's events to a file: one pcapng of every node's
// packets, or a tar of one pcapng per node. The file is created at the
// first interface, so a capture that matched nothing leaves none.
type output struct {
	path string
	tar  bool
	file *os.File
	one  *pcapng.Writer
	// nodes are the per-node files a tar is made of, in temporary files.
	nodes map[string]*nodeFile
}

type nodeFile struct {
	f *os.File
	w *pcapng.Writer
}

func newOutput(path string, asTar bool) *output {
	return &output{path: path, tar: asTar, nodes: map[string]*nodeFile{}}
}

// write writes ev's interface or packets, flushing them to disk.
func (o *output) write(ev *capturepb.CaptureEvent) error {
	if ev.GetInterface() == nil && ev.GetPackets() == nil {
		return nil
	}
	w, err := o.writer(ev.GetNode())
	if err != nil {
		return err
	}
	if err := w.Write(ev); err != nil {
		return err
	}
	return w.Flush()
}

func (o *output) writer(node string) (*pcapng.Writer, error) {
	if !o.tar {
		if o.one == nil {
			f, err := os.Create(o.path)
			if err != nil {
				return nil, fmt.Errorf("create output: %w", err)
			}
			o.file, o.one = f, pcapng.NewWriter(f)
		}
		return o.one, nil
	}
	if n, ok := o.nodes[node]; ok {
		return n.w, nil
	}
	f, err := os.CreateTemp(filepath.Dir(o.path), ".fovea-capture-*.pcapng")
	if err != nil {
		return nil, fmt.Errorf("create output: %w", err)
	}
	o.nodes[node] = &nodeFile{f: f, w: pcapng.NewWriter(f)}
	return o.nodes[node].w, nil
}

// empty reports whether nothing was written.
func (o *output) empty() bool { return o.one == nil && len(o.nodes) == 0 }

// close finishes the file: for a tar, one member per node, named after it.
func (o *output) close() error {
	if !o.tar {
		if o.file == nil {
			return nil
		}
		return o.file.Close()
	}
	defer func() {
		for _, n := range o.nodes {
			n.f.Close()
			os.Remove(n.f.Name())
		}
	}()
	f, err := os.Create(o.path)
	if err != nil {
		return fmt.Errorf("create output: %w", err)
	}
	tw := tar.NewWriter(f)
	names := make([]string, 0, len(o.nodes))
	for node := range o.nodes {
		names = append(names, node)
	}
	slices.Sort(names)
	for _, node := range names {
		if err := addTarMember(tw, node, o.nodes[node].f); err != nil {
			f.Close()
			return err
		}
	}
	return errors.Join(tw.Close(), f.Close())
}

func addTarMember(tw *tar.Writer, node string, f *os.File) error {
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("write tar: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("write tar: %w", err)
	}
	name := strings.ReplaceAll(node, "/", "_") + ".pcapng"
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: size, ModTime: time.Now()}); err != nil {
		return fmt.Errorf("write tar: %w", err)
	}
	if _, err := io.Copy(tw, f); err != nil {
		return fmt.Errorf("write tar: %w", err)
	}
	return nil
}
