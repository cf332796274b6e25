package pcapng

import (
	"fmt"
	"io"
	"runtime"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/foveanet/fovea/api/capture/capturepb"
)

// Writer writes capture events as pcapng. It is not safe for concurrent
// use.
type Writer struct {
	out io.Writer
	ng  *pcapgo.NgWriter // nil until the first interface
	// index maps a node's interface id to its block's index in the file.
	index map[ifaceKey]int
}

type ifaceKey struct {
	node string
	id   uint32
}

// NewWriter returns a writer to out. The file starts with the first
// interface: pcapng has no place for packets before one.
func NewWriter(out io.Writer) *Writer {
	return &Writer{out: out, index: map[ifaceKey]int{}}
}

// Write writes the interface or packets ev carries; other events carry
// nothing the file holds.
func (w *Writer) Write(ev *capturepb.CaptureEvent) error {
	switch e := ev.GetEvent().(type) {
	case *capturepb.CaptureEvent_Interface:
		return w.AddInterface(ev.GetNode(), e.Interface)
	case *capturepb.CaptureEvent_Packets:
		for _, p := range e.Packets.GetPackets() {
			if err := w.WritePacket(ev.GetNode(), p); err != nil {
				return err
			}
		}
	}
	return nil
}

// AddInterface adds node's interface in. An interface already added is
// kept as it was.
func (w *Writer) AddInterface(node string, in *capturepb.Interface) error {
	key := ifaceKey{node, in.GetId()}
	if _, ok := w.index[key]; ok {
		return nil
	}
	intf := pcapgo.NgInterface{
		Name:                in.GetName(),
		Description:         in.GetDescription(),
		Comment:             comment(node, in),
		OS:                  runtime.GOOS,
		LinkType:            layers.LinkType(in.GetLinkType()),
		SnapLength:          in.GetSnapLength(),
		TimestampResolution: 9,
	}
	if w.ng == nil {
		ng, err := pcapgo.NewNgWriterInterface(w.out, intf, pcapgo.DefaultNgWriterOptions)
		if err != nil {
			return fmt.Errorf("write pcapng header: %w", err)
		}
		w.ng, w.index[key] = ng, 0
		return nil
	}
	i, err := w.ng.AddInterface(intf)
	if err != nil {
		return fmt.Errorf("write pcapng interface %s: %w", in.GetName(), err)
	}
	w.index[key] = i
	return nil
}

// WritePacket writes a packet of node's interface p.InterfaceId, which
// AddInterface must have added.
func (w *Writer) WritePacket(node string, p *capturepb.Packet) error {
	i, ok := w.index[ifaceKey{node, p.GetInterfaceId()}]
	if !ok {
		return fmt.Errorf("write pcapng packet: node %s has no interface %d", node, p.GetInterfaceId())
	}
	data := p.GetData()
	ci := gopacket.CaptureInfo{
		Timestamp:      unixNano(p.GetTimeUnixNano()),
		CaptureLength:  len(data),
		Length:         max(int(p.GetLength()), len(data)),
		InterfaceIndex: i,
	}
	if err := w.ng.WritePacket(ci, data); err != nil {
		return fmt.Errorf("write pcapng packet: %w", err)
	}
	return nil
}

// Interfaces returns how many interfaces the file has.
func (w *Writer) Interfaces() int { return len(w.index) }

// Flush writes what is buffered.
func (w *Writer) Flush() error {
	if w.ng == nil {
		return nil
	}
	if err := w.ng.Flush(); err != nil {
		return fmt.Errorf("flush pcapng: %w", err)
	}
	return nil
}
