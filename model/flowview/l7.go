package flowview

import (
	"fmt"
	"strings"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"github.com/gopacket/gopacket/layers"

	"github.com/foveanet/fovea/model/record"
)

// L7 returns the application-layer details of an L7 event, or nil for other
// events and for L7 events whose details the bounded store has dropped.
func (e *Flow) L7() *flowpb.Layer7 {
	if e.Rec.Kind != record.KindL7 || e.node.Tables.L7 == nil {
		return nil
	}
	return e.node.Tables.L7.Get(e.Rec.Ext)
}

// buildL7 sets the L7 fields of f. Without details (expired) the flow stays
// an L7 flow with the L3/L4 summary.
func buildL7(e *Flow, f *flowpb.Flow) {
	l7 := e.L7()
	if l7 == nil {
		return
	}
	f.L7 = l7
	// Hubble's L7 flows carry ports but no TCP flags.
	if tcp := f.GetL4().GetTCP(); tcp != nil {
		tcp.Flags = nil
	}
	if dns := l7.GetDns(); dns != nil {
		f.Summary = DNSSummary(l7.GetType(), dns)
	}
	if http := l7.GetHttp(); http != nil {
		f.Summary = HTTPSummary(l7)
	}
}

// HTTPSummary writes the summary of an HTTP flow exactly as Hubble's L7
// parser does: "HTTP/1.1 GET http://api/v1", and for a response
// "HTTP/1.1 200 12ms (GET http://api/v1)", the latency truncated to
// milliseconds.
func HTTPSummary(l *flowpb.Layer7) string {
	h := l.GetHttp()
	switch l.GetType() {
	case flowpb.L7FlowType_REQUEST:
		return fmt.Sprintf("%s %s %s", h.GetProtocol(), h.GetMethod(), h.GetUrl())
	case flowpb.L7FlowType_RESPONSE:
		return fmt.Sprintf("%s %d %dms (%s %s)", h.GetProtocol(), h.GetCode(), time.Duration(l.GetLatencyNs())/time.Millisecond, h.GetMethod(), h.GetUrl())
	}
	return ""
}

// DNSSummary writes the summary of a DNS flow exactly as Hubble's L7 parser
// does — "DNS Query api.example.com. A", "DNS Answer "1.2.3.4" TTL: 60
// (Query api.example.com. A)" — since `hubble observe` prints it and users
// grep for it. Hubble says "Proxy" in the parenthesis only for answers its
// DNS proxy saw; answers observed in the datapath get "Query", as Hubble
// writes for every other observation source.
func DNSSummary(typ flowpb.L7FlowType, dns *flowpb.DNS) string {
	qtypes := strings.Join(dns.GetQtypes(), ",")
	switch typ {
	case flowpb.L7FlowType_REQUEST:
		return fmt.Sprintf("DNS Query %s %s", dns.GetQuery(), qtypes)
	case flowpb.L7FlowType_RESPONSE:
		var answer string
		if rcode := layers.DNSResponseCode(dns.GetRcode()); rcode != layers.DNSResponseCodeNoErr {
			answer = "RCode: " + rcode.String()
		} else {
			var parts []string
			if ips := dns.GetIps(); len(ips) > 0 {
				parts = append(parts, fmt.Sprintf("%q", strings.Join(ips, ",")))
			}
			if cnames := dns.GetCnames(); len(cnames) > 0 {
				parts = append(parts, fmt.Sprintf("CNAMEs: %q", strings.Join(cnames, ",")))
			}
			answer = strings.Join(parts, " ")
		}
		source := "Query"
		if dns.GetObservationSource() == ObservationSourceProxy {
			source = "Proxy"
		}
		return fmt.Sprintf("DNS Answer %s TTL: %d (%s %s %s)", answer, dns.GetTtl(), source, dns.GetQuery(), qtypes)
	}
	return ""
}

// ObservationSourceProxy is the DNS observation source Cilium's DNS proxy
// reports; Fovea observes DNS in the datapath and reports
// ObservationSourceDatapath.
const (
	ObservationSourceProxy    = "proxy"
	ObservationSourceDatapath = "datapath"
)
