//go:build linux

package capture

import (
	"errors"
	"net/netip"

	"golang.org/x/net/bpf"

	fbpf "github.com/foveanet/fovea/bpf"
)

// hostNetwork is the node's network, through AF_PACKET sockets.
type hostNetwork struct{}

func newNetwork() network { return hostNetwork{} }

func (hostNetwork) podLink(addrs []netip.Addr) (link, bool, error) {
	l, ok, err := fbpf.PodLink(addrs)
	return link{index: l.Index, name: l.Name}, ok, err
}

func (hostNetwork) hostLinks() ([]link, error) {
	ls, err := fbpf.HostLinks()
	out := make([]link, len(ls))
	for i, l := range ls {
		out[i] = link{index: l.Index, name: l.Name}
	}
	return out, err
}

func (hostNetwork) exists(l link) bool {
	return fbpf.LinkExists(fbpf.Link{Index: l.index, Name: l.name})
}

func (hostNetwork) open(l link, prog []bpf.RawInstruction) (socket, error) {
	s, err := fbpf.OpenPacketSocket(l.index, prog, socketBuffer, readTimeout)
	if err != nil {
		return nil, err
	}
	return packetSocket{s}, nil
}

type packetSocket struct{ s *fbpf.PacketSocket }

func (p packetSocket) read(buf []byte) (packetInfo, error) {
	info, err := p.s.Read(buf)
	switch {
	case errors.Is(err, fbpf.ErrNoPacket):
		return packetInfo{}, errNoPacket
	case errors.Is(err, fbpf.ErrInterfaceGone):
		return packetInfo{}, errGone
	case err != nil:
		return packetInfo{}, err
	}
	return packetInfo{captured: info.Captured, length: info.Length, at: info.Time}, nil
}

func (p packetSocket) stats() (packets, drops uint64) {
	packets, drops, _ = p.s.Stats() // on failure, the last counts stand
	return packets, drops
}

func (p packetSocket) close() error { return p.s.Close() }
