package pcapng

import (
	"errors"
	"fmt"
	"io"

	"github.com/gopacket/gopacket/pcapgo"

	"github.com/foveanet/fovea/api/capture/capturepb"
)

// batchBytes bounds the packet data of one Packets event Read emits, well
// under gRPC's default 4 MiB message limit.
const batchBytes = 256 << 10

// Read reads a file Writer wrote for one node (the agent's own files) and emits its interfaces and
// packets as that node's events, each interface before its first packet,
// packets in batches of at most batchBytes.
func Read(r io.Reader, emit func(*capturepb.CaptureEvent) error) error {
	ng, err := pcapgo.NewNgReader(r, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		return fmt.Errorf("read pcapng: %w", err)
	}
	var (
		announced int
		node      string
		batch     []*capturepb.Packet
		size      int
	)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := emit(&capturepb.CaptureEvent{Node: node, Event: &capturepb.CaptureEvent_Packets{Packets: &capturepb.Packets{Packets: batch}}})
		batch, size = nil, 0
		return err
	}
	announce := func() error {
		for ; announced < ng.NInterfaces(); announced++ {
			intf, err := ng.Interface(announced)
			if err != nil {
				return fmt.Errorf("read pcapng interface: %w", err)
			}
			if err := flush(); err != nil {
				return err
			}
			meta := parseComment(intf.Comment)
			node = meta[keyNode]
			if err := emit(&capturepb.CaptureEvent{Node: node, Event: &capturepb.CaptureEvent_Interface{Interface: &capturepb.Interface{
				Id: uint32(announced), Name: intf.Name, Description: intf.Description,
				Namespace: meta[keyNamespace], Pod: meta[keyPod], Device: meta[keyDevice],
				LinkType: uint32(intf.LinkType), SnapLength: intf.SnapLength,
			}}}); err != nil {
				return err
			}
		}
		return nil
	}
	for {
		data, ci, err := ng.ReadPacketData()
		if errors.Is(err, io.EOF) {
			if err := announce(); err != nil {
				return err
			}
			return flush()
		}
		if err != nil {
			return fmt.Errorf("read pcapng packet: %w", err)
		}
		if err := announce(); err != nil {
			return err
		}
		batch = append(batch, &capturepb.Packet{
			InterfaceId: uint32(ci.InterfaceIndex), TimeUnixNano: ci.Timestamp.UnixNano(),
			Length: uint32(ci.Length), Data: data,
		})
		if size += len(data); size >= batchBytes {
			if err := flush(); err != nil {
				return err
			}
		}
	}
}
