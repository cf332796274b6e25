package filters

import (
	"fmt"
	"regexp"

	flowpb "github.com/cilium/cilium/api/v1/flow"
)

func buildDNSQuery(ff *flowpb.FlowFilter, _ *config) ([]Func, error) {
	v := ff.GetDnsQuery()
	if len(v) == 0 {
		return nil, nil
	}
	res, err := compileRegexps("dns_query", v)
	if err != nil {
		return nil, err
	}
	return []Func{onL7Flow(dnsQueryMatches(res))}, nil
}

// dnsQueryMatches matches the query of DNS flows against unanchored
// regexps, as Hubble does.
func dnsQueryMatches(res []*regexp.Regexp) flowFunc {
	return func(f *flowpb.Flow) bool {
		dns := f.GetL7().GetDns()
		return dns != nil && anyRegexpMatches(res, dns.GetQuery())
	}
}

func compileRegexps(field string, exprs []string) ([]*regexp.Regexp, error) {
	res := make([]*regexp.Regexp, 0, len(exprs))
	for _, x := range exprs {
		re, err := regexp.Compile(x)
		if err != nil {
			return nil, fmt.Errorf("%s: invalid regular expression %q: %w", field, x, err)
		}
		res = append(res, re)
	}
	return res, nil
}

func anyRegexpMatches(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}
