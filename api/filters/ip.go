package filters

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/record"
)

// ipSet matches addresses against exact addresses and CIDRs.
type ipSet struct {
	addrs    []netip.Addr
	prefixes []netip.Prefix
}

func parseIPSet(field string, values []string) (*ipSet, error) {
	s := &ipSet{}
	for _, v := range values {
		if strings.Contains(v, "/") {
			p, err := netip.ParsePrefix(v)
			if err != nil {
				return nil, fmt.Errorf("%s: invalid IP or CIDR %s", field, quoted(v))
			}
			s.prefixes = append(s.prefixes, p)
			continue
		}
		a, err := netip.ParseAddr(v)
		if err != nil {
			return nil, fmt.Errorf("%s: invalid IP or CIDR %s", field, quoted(v))
		}
		s.addrs = append(s.addrs, a)
	}
	return s, nil
}

func (s *ipSet) contains(a netip.Addr) bool {
	if slices.Contains(s.addrs, a) {
		return true
	}
	for _, p := range s.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// containsString matches an address as a flow spells it; an empty or
// unparsable one matches nothing, as in Hubble.
func (s *ipSet) containsString(ip string) bool {
	a, err := netip.ParseAddr(ip)
	return err == nil && s.contains(a)
}

func buildIP(ff *flowpb.FlowFilter, _ *config) ([]Func, error) {
	var fs []Func
	if v := ff.GetSourceIp(); len(v) > 0 {
		s, err := parseIPSet("source_ip", v)
		if err != nil {
			return nil, err
		}
		fs = append(fs, func(e *flowview.Flow) bool { return !e.IsLost() && s.contains(e.Rec.SrcAddr()) })
	}
	if v := ff.GetDestinationIp(); len(v) > 0 {
		s, err := parseIPSet("destination_ip", v)
		if err != nil {
			return nil, err
		}
		fs = append(fs, func(e *flowview.Flow) bool { return !e.IsLost() && s.contains(e.Rec.DstAddr()) })
	}
	if v := ff.GetSourceIpXlated(); len(v) > 0 {
		s, err := parseIPSet("source_ip_xlated", v)
		if err != nil {
			return nil, err
		}
		fs = append(fs, onFlow(sourceIPXlatedIn(s)))
	}
	return fs, nil
}

func sourceIPXlatedIn(s *ipSet) flowFunc {
	return func(f *flowpb.Flow) bool { return s.containsString(f.GetIP().GetSourceXlated()) }
}

func buildIPVersion(ff *flowpb.FlowFilter, _ *config) ([]Func, error) {
	versions := slices.Clone(ff.GetIpVersion())
	if len(versions) == 0 {
		return nil, nil
	}
	return []Func{func(e *flowview.Flow) bool {
		return !e.IsLost() && slices.Contains(versions, ipVersion(&e.Rec))
	}}, nil
}

// ipVersion is the version of the record's addresses; every flow record
// has an IP header.
func ipVersion(r *record.Record) flowpb.IPVersion {
	if r.IsIPv6() {
		return flowpb.IPVersion_IPv6
	}
	return flowpb.IPVersion_IPv4
}
