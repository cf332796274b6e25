package filters

import (
	"fmt"
	"regexp"

	flowpb "github.com/cilium/cilium/api/v1/flow"
)

func buildDNSQuery(ff *flowpb.FlowFilter, c *config) ([]Func, error) {
	v := ff.GetDnsQuery()
	if len(v) == 0 {
		return nil, nil
	}
	res, err := c.budget.compileRegexps("dns_query", v)
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

func (b *budget) compileRegexps(field string, exprs []string) ([]*regexp.Regexp, error) {
	res := make([]*regexp.Regexp, 0, len(exprs))
	for _, x := range exprs {
		re, err := b.compileRegexp(x)
		if err != nil {
			return nil, fmt.Errorf("%s: invalid regular expression %s: %w", field, quoted(x), err)
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
