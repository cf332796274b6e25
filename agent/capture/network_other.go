//go:build !linux

package capture

import (
	"errors"
	"net/netip"

	"golang.org/x/net/bpf"
)

var errNoNetwork = errors.New("packet capture: only supported on Linux")

// noNetwork stands where packet sockets do not exist yet.
type noNetwork struct{}

func newNetwork() network { return noNetwork{} }

func (noNetwork) podLink([]netip.Addr) (link, bool, error)        { return link{}, false, errNoNetwork }
func (noNetwork) hostLinks() ([]link, error)                      { return nil, errNoNetwork }
func (noNetwork) exists(link) bool                                { return false }
func (noNetwork) open(link, []bpf.RawInstruction) (socket, error) { return nil, errNoNetwork }
