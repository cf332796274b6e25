package bpf

import "fmt"

// role is what an interface is to the node, which decides the observation
// point its packets are reported at.
type role uint8

const (
	// roleNetwork is a device facing the network: the default-route
	// device, or any host device, whatever its link type.
	roleNetwork role = iota
	// roleEndpoint is the host side of a pod's veth: its ingress carries
	// packets leaving the pod.
	roleEndpoint
	// roleOverlay is a tunnel device (flannel.1, vxlan.calico,
	// cilium_vxlan, genev_sys_6081): its egress carries pod packets into
	// the overlay, before encapsulation, its ingress them out of it.
	roleOverlay
)

func (r role) String() string {
	switch r {
	case roleEndpoint:
		return "endpoint"
	case roleOverlay:
		return "overlay"
	}
	return "network"
}

// parseRole parses a role's String form.
func parseRole(s string) (role, error) {
	for _, r := range []role{roleEndpoint, roleNetwork, roleOverlay} {
		if s == r.String() {
			return r, nil
		}
	}
	return 0, fmt.Errorf("parse role %q: want endpoint, network or overlay", s)
}
