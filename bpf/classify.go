package bpf

// linkFacts is what decides whether an interface is captured on and in
// which role, as read from netlink when it appears or changes.
type linkFacts struct {
	name string
	// veth: the link is one end of a veth pair; peerElsewhere: its peer
	// is in another network namespace.
	veth, peerElsewhere bool
	// tunnel: the link encapsulates (VXLAN, Geneve, IP-in-IP, WireGuard,
	// IPsec); encrypted: what it carries is encrypted on the wire.
	tunnel, encrypted bool
	// defaultRoute: a default route leaves through the link.
	defaultRoute bool
	// subnetAddr: the link has a global address on a subnet (a prefix
	// shorter than a single host's), as a link to a network does. Pod
	// veths have none: at most link-local ones, or a gateway /32 (CNI ptp).
	subnetAddr bool
	// uplinkPort: the link is enslaved to a device a default route leaves
	// through (a NIC in the node's uplink bridge); the bridge is
	// captured, so its ports would report the same packets again.
	uplinkPort bool
}

// decision is where and how an interface is captured on.
type decision struct {
	capture bool
	role    role
	// encrypted: the interface's packets leave the node encrypted.
	encrypted bool
	// reason says why, for the log.
	reason string
}

// classify decides an interface's role from what it is, whatever its
// link type says: a pod interface is the host end of a veth whose peer is
// in another namespace and that is not the node's link to a network.
// Nested nodes (kind, containers, VMs in containers) have a veth as their
// default-route device, which is why being a veth alone decides nothing.
func classify(f linkFacts) decision {
	switch {
	case f.defaultRoute:
		return decision{capture: true, role: roleNetwork, reason: "default route"}
	case f.tunnel && f.encrypted:
		return decision{capture: true, role: roleOverlay, encrypted: true, reason: "encrypting tunnel device"}
	case f.tunnel:
		return decision{capture: true, role: roleOverlay, reason: "tunnel device"}
	case !f.veth:
		return decision{role: roleNetwork, reason: "host device"}
	case f.uplinkPort:
		return decision{role: roleNetwork, reason: "port of the default-route device"}
	case f.subnetAddr:
		return decision{role: roleNetwork, reason: "address on a subnet"}
	case !f.peerElsewhere:
		return decision{role: roleNetwork, reason: "veth peer in this namespace"}
	}
	return decision{capture: true, role: roleEndpoint, reason: "veth peer in another namespace"}
}

// decide applies the configured selectors to classify's decision: with
// none, classify's choice stands; with some, they select the interfaces
// and may fix their role.
func decide(f linkFacts, sels []selector) decision {
	d := classify(f)
	if len(sels) == 0 {
		return d
	}
	sel, ok := match(sels, f.name)
	if !ok {
		return decision{reason: "no selector matches"}
	}
	d.capture = true
	if sel.fixed {
		d.role, d.reason = sel.role, "configured "+sel.glob+"="+sel.role.String()
	}
	return d
}
