package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	"github.com/foveanet/fovea/api/capture/capturepb"
)

// progressView shows how each node's capture goes.
type progressView interface {
	event(ev *capturepb.CaptureEvent)
	// wait finishes the view once every node ended.
	wait()
}

// newProgressView returns live bars on a terminal, a line per node event
// elsewhere, nothing when quiet.
func newProgressView(w *os.File, quiet bool) progressView {
	switch {
	case quiet:
		return quietView{}
	case term.IsTerminal(int(w.Fd())):
		return newBarView(w)
	}
	return &lineView{w: w}
}

type quietView struct{}

func (quietView) event(*capturepb.CaptureEvent) {}
func (quietView) wait()                         {}

// lineView prints a line when a node starts, loses an interface and ends.
type lineView struct{ w io.Writer }

func (v *lineView) event(ev *capturepb.CaptureEvent) {
	switch e := ev.GetEvent().(type) {
	case *capturepb.CaptureEvent_Started:
		fmt.Fprintf(v.w, "%s: capture %s started\n", ev.GetNode(), ev.GetCaptureId())
	case *capturepb.CaptureEvent_InterfaceClosed:
		fmt.Fprintf(v.w, "%s: interface %d closed: %s\n", ev.GetNode(), e.InterfaceClosed.GetInterfaceId(), e.InterfaceClosed.GetReason())
	case *capturepb.CaptureEvent_Ended:
		fmt.Fprintf(v.w, "%s: %s\n", ev.GetNode(), endSummary(e.Ended))
	}
}

func (v *lineView) wait() {}

func endSummary(e *capturepb.Ended) string {
	p := e.GetProgress()
	s := fmt.Sprintf("ended (%s", e.GetReason())
	if e.GetMessage() != "" {
		s += ": " + e.GetMessage()
	}
	return s + fmt.Sprintf("), %d packets, %d bytes, %d dropped by the kernel", p.GetPackets(), p.GetBytes(), p.GetDropped())
}

// barView shows a bar per node, filling as its duration passes, with its
// packets, bytes and time left.
type barView struct {
	p    *mpb.Progress
	mu   sync.Mutex
	bars map[string]*nodeBar
}

type nodeBar struct {
	bar      *mpb.Bar
	duration time.Duration
	mu       sync.Mutex
	status   string
}

func newBarView(w io.Writer, opts ...mpb.ContainerOption) *barView {
	opts = append([]mpb.ContainerOption{mpb.WithOutput(w), mpb.WithRefreshRate(200 * time.Millisecond)}, opts...)
	return &barView{p: mpb.New(opts...), bars: map[string]*nodeBar{}}
}

func (v *barView) event(ev *capturepb.CaptureEvent) {
	v.mu.Lock()
	defer v.mu.Unlock()
	switch e := ev.GetEvent().(type) {
	case *capturepb.CaptureEvent_Started:
		nb := &nodeBar{duration: e.Started.GetLimits().GetDuration().AsDuration(), status: "starting"}
		nb.bar = v.p.AddBar(max(nb.duration.Milliseconds(), 1),
			mpb.PrependDecorators(decor.Name(ev.GetNode(), decor.WCSyncSpaceR)),
			mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
				nb.mu.Lock()
				defer nb.mu.Unlock()
				return nb.status
			})))
		v.bars[ev.GetNode()] = nb
	case *capturepb.CaptureEvent_Progress:
		if nb := v.bars[ev.GetNode()]; nb != nil {
			p := e.Progress
			nb.set(fmt.Sprintf("%d packets, %s, %s left", p.GetPackets(), formatBytes(p.GetBytes()), p.GetRemaining().AsDuration().Round(time.Second)))
			nb.bar.SetCurrent(p.GetElapsed().AsDuration().Milliseconds())
		}
	case *capturepb.CaptureEvent_Ended:
		if nb := v.bars[ev.GetNode()]; nb != nil {
			nb.set(endSummary(e.Ended))
			nb.bar.SetTotal(-1, true)
		}
	}
}

func (nb *nodeBar) set(s string) {
	nb.mu.Lock()
	defer nb.mu.Unlock()
	nb.status = s
}

func (v *barView) wait() {
	v.mu.Lock()
	for _, nb := range v.bars {
		if !nb.bar.Completed() {
			nb.bar.Abort(false)
		}
	}
	v.mu.Unlock()
	v.p.Wait()
}

func formatBytes(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
