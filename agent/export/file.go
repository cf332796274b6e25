package export

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	observerpb "github.com/cilium/cilium/api/v1/observer"
	relaypb "github.com/cilium/cilium/api/v1/relay"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"
	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/foveanet/fovea/model/flowview"
)

// Stdout is the file path that writes a flow log to the agent's standard
// output instead of a file, as Cilium's.
const Stdout = "stdout"

// flushBytes is how many bytes of whole lines a file sink gathers before
// writing them in one call: one write per flow would cost a system call
// each, and lumberjack rotates between writes, so a write of whole lines
// never splits a line across two files.
const flushBytes = 64 << 10

// encoding is Cilium's: its exporter's ExportEvent.MarshalJSON uses the
// fields' proto names, which `hubble observe --input-file` reads back.
var encoding = protojson.MarshalOptions{UseProtoNames: true}

// fileSink writes ExportEvents, one JSON document a line, to a lumberjack
// file or to stdout.
type fileSink struct {
	w        io.WriteCloser
	path     string
	nodeName string
	status   *Status

	buf   []byte
	lines uint64 // in buf
	// partial is set when a failed write left part of a line in the file,
	// so the next write starts a new line and only that line is lost.
	partial bool
}

// FileOptions are the rotation settings of a flow log file.
type FileOptions struct {
	// MaxSizeMB is the size at which the file is rotated.
	MaxSizeMB int
	// MaxBackups is how many rotated files are kept.
	MaxBackups int
	// Compress gzips rotated files.
	Compress bool
}

// newFileSink returns a sink writing to path (or Stdout) with opts.
func newFileSink(path string, opts FileOptions, nodeName string, status *Status) *fileSink {
	var w io.WriteCloser = nopCloser{os.Stdout}
	if path != Stdout {
		w = &lumberjack.Logger{Filename: path, MaxSize: opts.MaxSizeMB, MaxBackups: opts.MaxBackups, Compress: opts.Compress}
	}
	return &fileSink{w: w, path: path, nodeName: nodeName, status: status}
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// Flow implements Sink.
func (s *fileSink) Flow(_ *flowview.Flow, f *flowpb.Flow) {
	s.add(&observerpb.ExportEvent{Time: f.GetTime(), NodeName: s.name(f.GetNodeName()),
		ResponseTypes: &observerpb.ExportEvent_Flow{Flow: f}})
}

// Lost implements Sink.
func (s *fileSink) Lost(t time.Time, lost *flowpb.LostEvent) {
	s.add(&observerpb.ExportEvent{Time: timestamppb.New(t), NodeName: s.nodeName,
		ResponseTypes: &observerpb.ExportEvent_LostEvents{LostEvents: lost}})
}

// NodeStatus implements Sink.
func (s *fileSink) NodeStatus(t time.Time, st *relaypb.NodeStatusEvent) {
	s.add(&observerpb.ExportEvent{Time: timestamppb.New(t), NodeName: s.nodeName,
		ResponseTypes: &observerpb.ExportEvent_NodeStatus{NodeStatus: st}})
}

// Idle implements Sink: what is gathered is written.
func (s *fileSink) Idle(time.Time) time.Time {
	s.flush()
	return time.Time{}
}

// Close implements Sink.
func (s *fileSink) Close() error {
	s.flush()
	if err := s.w.Close(); err != nil {
		return fmt.Errorf("close %s: %w", s.path, err)
	}
	return nil
}

// name is a flow's node name, or the agent's for a flow that has none (a
// field mask without node_name).
func (s *fileSink) name(n string) string {
	if n == "" {
		return s.nodeName
	}
	return n
}

func (s *fileSink) add(ev *observerpb.ExportEvent) {
	b, err := encoding.MarshalAppend(s.buf, ev)
	if err != nil {
		s.status.Dropped(ReasonEncodeFailed, 1, fmt.Errorf("encode export event: %w", err))
		return
	}
	s.buf, s.lines = append(b, '\n'), s.lines+1
	if len(s.buf) >= flushBytes {
		s.flush()
	}
}

// flush writes the gathered lines. Lines a failed write did not finish
// are dropped and counted, and the sink goes on with the next ones.
func (s *fileSink) flush() {
	if s.lines == 0 {
		return
	}
	written, err := s.write()
	if err != nil {
		done := uint64(bytes.Count(s.buf[:written], []byte{'\n'}))
		s.status.Exported(done)
		s.status.Dropped(ReasonWriteFailed, s.lines-done, fmt.Errorf("write %s: %w", s.path, err))
	} else {
		s.status.Exported(s.lines)
	}
	s.buf, s.lines = s.buf[:0], 0
}

// write writes buf, after a newline if the last write broke off in a line,
// and returns how much of buf it wrote.
func (s *fileSink) write() (int, error) {
	if s.partial {
		if _, err := s.w.Write([]byte{'\n'}); err != nil {
			return 0, err
		}
		s.partial = false
	}
	n, err := s.w.Write(s.buf)
	s.partial = err != nil && n > 0 && s.buf[n-1] != '\n'
	return n, err
}
