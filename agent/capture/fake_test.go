package capture

import (
	"net/netip"
	"sync"
	"time"

	"golang.org/x/net/bpf"
)

// fakeNetwork stands for the node's network: pods' addresses lead to
// links, and each link's socket reads what the test injects, through the
// compiled filter, as the kernel would.
type fakeNetwork struct {
	mu      sync.Mutex
	links   map[netip.Addr]link
	gone    map[int]bool
	sockets map[int]*fakeSocket
	opened  chan int
}

func newFakeNetwork() *fakeNetwork {
	return &fakeNetwork{links: map[netip.Addr]link{}, gone: map[int]bool{}, sockets: map[int]*fakeSocket{}, opened: make(chan int, 64)}
}

func (n *fakeNetwork) podLink(addrs []netip.Addr) (link, bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, a := range addrs {
		if l, ok := n.links[a]; ok {
			return l, true, nil
		}
	}
	return link{}, false, nil
}

func (n *fakeNetwork) hostLinks() ([]link, error) { return []link{{index: 1, name: "eth0"}}, nil }

func (n *fakeNetwork) exists(l link) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return !n.gone[l.index]
}

func (n *fakeNetwork) open(l link, prog []bpf.RawInstruction) (socket, error) {
	insns, _ := bpf.Disassemble(prog)
	vm, err := bpf.NewVM(insns)
	if err != nil {
		return nil, err
	}
	s := &fakeSocket{vm: vm, in: make(chan fakePacket, 1024), closed: make(chan struct{})}
	n.mu.Lock()
	n.sockets[l.index] = s
	n.mu.Unlock()
	n.opened <- l.index
	return s, nil
}

// socket returns the socket opened on link index, once it is.
func (n *fakeNetwork) socket(index int) *fakeSocket {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.sockets[index]
}

func (n *fakeNetwork) remove(index int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.gone[index] = true
}

type fakePacket struct {
	data []byte
	at   time.Time
}

type fakeSocket struct {
	vm        *bpf.VM
	in        chan fakePacket
	closeOnce sync.Once
	closed    chan struct{}
	mu        sync.Mutex
	packets   uint64
}

func (s *fakeSocket) inject(data []byte, at time.Time) { s.in <- fakePacket{data, at} }

func (s *fakeSocket) read(buf []byte) (packetInfo, error) {
	for {
		select {
		case p := <-s.in:
			n, err := s.vm.Run(p.data)
			if err != nil || n == 0 {
				continue
			}
			s.mu.Lock()
			s.packets++
			s.mu.Unlock()
			c := copy(buf, p.data[:min(n, len(p.data))])
			return packetInfo{captured: c, length: len(p.data), at: p.at}, nil
		case <-time.After(20 * time.Millisecond):
			return packetInfo{}, errNoPacket
		}
	}
}

func (s *fakeSocket) stats() (uint64, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.packets, 0
}

func (s *fakeSocket) close() error {
	s.closeOnce.Do(func() { close(s.closed) })
	return nil
}
