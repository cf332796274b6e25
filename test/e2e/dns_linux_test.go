//go:build linux

package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	mdns "github.com/miekg/dns"

	"github.com/foveanet/fovea/test/traffic"
)

// TestDNS looks up a name from a pod at a DNS server pod on the other node,
// over UDP and TCP, and checks that both agents show the query and response
// as L7 flows, and that a later connection to the answered address carries
// the names and matches --fqdn.
func TestDNS(t *testing.T) {
	e := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	client, clientSock := e.pod(0)
	api, _ := e.pod(1) // same node as the client: its agent saw the answer
	server, serverSock := e.pod(2)
	zone, err := traffic.DemoZone(api)
	if err != nil {
		t.Fatal(err)
	}
	s, err := traffic.ServeDNS(ctx, server, zone, nil)
	if err != nil {
		t.Fatalf("ServeDNS: %v", err)
	}
	defer s.Close()

	for _, proto := range []traffic.Proto{traffic.ProtoUDP, traffic.ProtoTCP} {
		t.Run(string(proto), func(t *testing.T) {
			l, err := traffic.LookupDNS(ctx, client, server, traffic.IPv4, proto, traffic.DemoWebName, mdns.TypeA)
			if err != nil {
				t.Fatalf("LookupDNS: %v", err)
			}
			for _, sock := range uniq(clientSock, serverSock) {
				for _, typeFlag := range [][]string{{"--protocol", "dns"}, {"-t", "l7"}, {"--type", "l7"}} {
					eventually(t, 10*time.Second, func() error {
						args := append([]string{"--last", "100000", "--ip", l.Src.IP.String()}, typeFlag...)
						return checkLookup(l, api, e.observeJSON(t, sock, args...))
					})
				}
			}
		})
	}

	// The client's agent learned api's names from the answers above.
	c, err := traffic.TCPShort(ctx, client, api, traffic.IPv4)
	if err != nil {
		t.Fatalf("TCPShort: %v", err)
	}
	name := strings.TrimSuffix(traffic.DemoAPIName, ".")
	for _, fqdnFlag := range []string{"--fqdn", "--to-fqdn"} {
		eventually(t, 10*time.Second, func() error {
			flows := e.observeJSON(t, clientSock, "--last", "100000", fqdnFlag, name, "--protocol", "tcp")
			requests, _ := connFlows(c, flows)
			if len(requests) == 0 {
				return fmt.Errorf("no flows of %s match %s %s among %d flows", c, fqdnFlag, name, len(flows))
			}
			want := []string{"api.demo.example", "web.demo.example"}
			for _, f := range requests {
				if !slices.Equal(f.GetDestinationNames(), want) {
					return fmt.Errorf("flow %s: destination_names %q, want %q", f.GetSummary(), f.GetDestinationNames(), want)
				}
			}
			return nil
		})
	}
	// A name nobody resolved matches nothing.
	if flows := e.observeJSON(t, clientSock, "--last", "100000", "--fqdn", "nope.demo.example"); len(flows) != 0 {
		t.Errorf("--fqdn nope.demo.example matched %d flows", len(flows))
	}
}

// checkLookup finds the query and response flows of l in flows.
func checkLookup(l traffic.Lookup, api traffic.Host, flows []*flowpb.Flow) error {
	requests, replies := connFlows(l.Conn, flows)
	query, response := dnsFlow(requests, flowpb.L7FlowType_REQUEST), dnsFlow(replies, flowpb.L7FlowType_RESPONSE)
	if query == nil || response == nil {
		return fmt.Errorf("%s: query flow %v, response flow %v among %d flows", l, query != nil, response != nil, len(flows))
	}
	for _, f := range []*flowpb.Flow{query, response} {
		if f.GetType() != flowpb.FlowType_L7 || f.GetEventType().GetType() != 129 || f.GetVerdict() != flowpb.Verdict_FORWARDED {
			return fmt.Errorf("%s: flow type %v, event type %d, verdict %v", l, f.GetType(), f.GetEventType().GetType(), f.GetVerdict())
		}
	}
	if q := query.GetL7().GetDns(); q.GetQuery() != traffic.DemoWebName || !slices.Equal(q.GetQtypes(), []string{"A"}) ||
		query.GetIsReply().GetValue() {
		return fmt.Errorf("%s: query flow %v", l, query)
	}
	if want := "DNS Query " + traffic.DemoWebName + " A"; query.GetSummary() != want {
		return fmt.Errorf("%s: query summary %q, want %q", l, query.GetSummary(), want)
	}
	r := response.GetL7().GetDns()
	if r.GetRcode() != 0 || !slices.Equal(r.GetIps(), []string{api.IPv4.String()}) ||
		!slices.Equal(r.GetCnames(), []string{traffic.DemoAPIName}) || r.GetTtl() != traffic.DemoTTL ||
		!response.GetIsReply().GetValue() {
		return fmt.Errorf("%s: response flow %v", l, response)
	}
	want := fmt.Sprintf("DNS Answer %q CNAMEs: %q TTL: %d (Query %s A)", api.IPv4.String(), traffic.DemoAPIName,
		traffic.DemoTTL, traffic.DemoWebName)
	if response.GetSummary() != want {
		return fmt.Errorf("%s: response summary %q, want %q", l, response.GetSummary(), want)
	}
	return nil
}

func dnsFlow(flows []*flowpb.Flow, typ flowpb.L7FlowType) *flowpb.Flow {
	for _, f := range flows {
		if f.GetL7().GetDns() != nil && f.GetL7().GetType() == typ {
			return f
		}
	}
	return nil
}
