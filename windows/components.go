package windows

import (
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
)

// Component is a PktMon component: a NIC, a vSwitch port or VM NIC, a
// filter driver, the host's IP stack. Those with a MAC address (NICs, VM
// NICs, vSwitch ports) can be joined to HNS endpoints.
type Component struct {
	ID   uint16
	Name string
	Type string
	MAC  net.HardwareAddr // nil: none
}

// pktmonList is `pktmon list --json`: components in groups, each with
// properties as name/value pairs.
type pktmonList []struct {
	Group      string `json:"Group"`
	Components []struct {
		ID         uint16 `json:"Id"`
		Name       string `json:"Name"`
		Type       string `json:"Type"`
		Properties []struct {
			Name  string `json:"Name"`
			Value any    `json:"Value"`
		} `json:"Properties"`
	} `json:"Components"`
}

// ParseComponentList parses `pktmon list --json`. A component's MAC address
// is the first property whose name speaks of one (PktMon names it by the
// NDIS OID it read, which releases spell differently) and whose value is
// one.
func ParseComponentList(b []byte) ([]Component, error) {
	var l pktmonList
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("parse pktmon list: %w", err)
	}
	var out []Component
	for _, g := range l {
		for _, c := range g.Components {
			comp := Component{ID: c.ID, Name: c.Name, Type: c.Type}
			for _, p := range c.Properties {
				name := strings.ToLower(strings.ReplaceAll(p.Name, " ", ""))
				v, ok := p.Value.(string)
				if !ok || !(strings.Contains(name, "mac") || strings.Contains(name, "physaddress") || strings.Contains(name, "physicaladdress")) {
					continue
				}
				if mac, err := net.ParseMAC(strings.TrimSpace(v)); err == nil {
					comp.MAC = mac
					break
				}
			}
			out = append(out, comp)
		}
	}
	return out, nil
}

// Components is the node's PktMon components by id, replaced whole when
// listed again, read lock-free by the decoder.
type Components struct {
	byID atomic.Pointer[map[uint16]*Component]
}

// Set replaces the components.
func (c *Components) Set(comps []Component) {
	m := make(map[uint16]*Component, len(comps))
	for i := range comps {
		m[comps[i].ID] = &comps[i]
	}
	c.byID.Store(&m)
}

// Lookup returns the component of id, or nil.
func (c *Components) Lookup(id uint16) *Component {
	m := c.byID.Load()
	if m == nil {
		return nil
	}
	return (*m)[id]
}
