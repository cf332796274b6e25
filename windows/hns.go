package windows

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
)

// hnsEndpoint is the part of an HNS endpoint (HcnQueryEndpointProperties,
// schema 2) the source reads.
type hnsEndpoint struct {
	ID               string `json:"ID"`
	Name             string `json:"Name"`
	MacAddress       string `json:"MacAddress"`
	IPConfigurations []struct {
		IPAddress string `json:"IpAddress"`
	} `json:"IpConfigurations"`
}

// ParseEndpoint parses one endpoint's properties as HNS returns them.
func ParseEndpoint(b []byte) (Endpoint, error) {
	var h hnsEndpoint
	if err := json.Unmarshal(b, &h); err != nil {
		return Endpoint{}, fmt.Errorf("parse HNS endpoint: %w", err)
	}
	ep := Endpoint{ID: h.ID, Name: h.Name}
	if h.MacAddress != "" {
		mac, err := net.ParseMAC(h.MacAddress)
		if err != nil {
			return Endpoint{}, fmt.Errorf("parse HNS endpoint %s: MacAddress: %w", h.ID, err)
		}
		ep.MAC = mac
	}
	for i, c := range h.IPConfigurations {
		ip, err := netip.ParseAddr(c.IPAddress)
		if err != nil {
			return Endpoint{}, fmt.Errorf("parse HNS endpoint %s: IpConfigurations[%d].IpAddress: %w", h.ID, i, err)
		}
		ep.IPs = append(ep.IPs, ip)
	}
	return ep, nil
}

// EndpointStats are an HNS endpoint's counters (GET /endpointstats/<id>),
// from the endpoint's point of view: received is towards the pod.
type EndpointStats struct {
	EndpointID             string `json:"EndpointID"`
	PacketsReceived        uint64 `json:"PacketsReceived"`
	PacketsSent            uint64 `json:"PacketsSent"`
	BytesReceived          uint64 `json:"BytesReceived"`
	BytesSent              uint64 `json:"BytesSent"`
	DroppedPacketsIncoming uint64 `json:"DroppedPacketsIncoming"`
	DroppedPacketsOutgoing uint64 `json:"DroppedPacketsOutgoing"`
}

// ParseEndpointStats parses one endpoint's statistics as HNS returns them.
func ParseEndpointStats(b []byte) (EndpointStats, error) {
	var s EndpointStats
	if err := json.Unmarshal(b, &s); err != nil {
		return EndpointStats{}, fmt.Errorf("parse HNS endpoint stats: %w", err)
	}
	return s, nil
}

// hnsResponse is the envelope of an HNS v1 (HNSCall) answer.
type hnsResponse struct {
	Success bool            `json:"Success"`
	Error   string          `json:"Error"`
	Output  json.RawMessage `json:"Output"`
}

// parseHNSResponse returns the Output of an HNS v1 answer, or its Error.
func parseHNSResponse(b []byte) (json.RawMessage, error) {
	var r hnsResponse
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("parse HNS response: %w", err)
	}
	if !r.Success {
		return nil, fmt.Errorf("HNS: %s", r.Error)
	}
	return r.Output, nil
}

// parseEndpointIDs parses HcnEnumerateEndpoints' list of endpoint ids.
func parseEndpointIDs(b []byte) ([]GUID, error) {
	var ids []string
	if err := json.Unmarshal(b, &ids); err != nil {
		return nil, fmt.Errorf("parse HNS endpoint list: %w", err)
	}
	out := make([]GUID, 0, len(ids))
	for _, id := range ids {
		g, err := ParseGUID(id)
		if err != nil {
			return nil, fmt.Errorf("parse HNS endpoint list: %w", err)
		}
		out = append(out, g)
	}
	return out, nil
}
