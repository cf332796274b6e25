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
)

func (r role) String() string {
	if r == roleEndpoint {
		return "endpoint"
	}
	return "network"
}

// parseRole parses a role's String form.
func parseRole(s string) (role, error) {
	for _, r := range []role{roleEndpoint, roleNetwork} {
		if s == r.String() {
			return r, nil
		}
	}
	return 0, fmt.Errorf("parse role %q: want endpoint or network", s)
}
