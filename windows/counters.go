package windows

// PortCounters are one HNS endpoint's statistics and, where VFP answers
// (it does on nodes whose vSwitch runs the VFP extension, as AKS's), its
// VFP port's counters: what Retina's Windows series are read from.
type PortCounters struct {
	Endpoint EndpointStats
	VFP      *VFPPortCounters // nil: no VFP port for the endpoint
}
