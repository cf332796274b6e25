package filters

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/flowview"
)

var (
	httpStatusFull   = regexp.MustCompile(`^[1-5][0-9]{2}$`)
	httpStatusPrefix = regexp.MustCompile(`^[1-5][0-9]?\+$`)
)

// httpField is one HTTP filter field: whether it is set and how to compile
// its predicate.
type httpField struct {
	name    string
	set     bool
	compile func() (flowFunc, error)
}

// buildHTTP compiles the HTTP fields. Like Hubble, it rejects them next to
// an event_type filter that does not name L7 (129): they could never match.
func buildHTTP(ff *flowpb.FlowFilter, c *config) ([]Func, error) {
	var fs []Func
	for _, f := range []httpField{
		{"http_status_code", len(ff.GetHttpStatusCode()) > 0, func() (flowFunc, error) { return httpStatusCodeIn(ff.GetHttpStatusCode()) }},
		{"http_method", len(ff.GetHttpMethod()) > 0, func() (flowFunc, error) { return httpMethodIn(ff.GetHttpMethod()), nil }},
		{"http_path", len(ff.GetHttpPath()) > 0, func() (flowFunc, error) { return httpPathMatches(&c.budget, ff.GetHttpPath()) }},
		{"http_url", len(ff.GetHttpUrl()) > 0, func() (flowFunc, error) { return httpURLMatches(&c.budget, ff.GetHttpUrl()) }},
		{"http_header", len(ff.GetHttpHeader()) > 0, func() (flowFunc, error) { return httpHeaderIn(ff.GetHttpHeader()), nil }},
	} {
		if !f.set {
			continue
		}
		if !allowsL7(ff.GetEventType()) {
			return nil, fmt.Errorf("%s: filtering on HTTP fields requires the event_type filter to match L7 events (type %d)", f.name, flowview.EventTypeL7)
		}
		p, err := f.compile()
		if err != nil {
			return nil, err
		}
		fs = append(fs, onL7Flow(p))
	}
	return fs, nil
}

// allowsL7 reports whether an event_type filter lets L7 events through.
func allowsL7(types []*flowpb.EventTypeFilter) bool {
	if len(types) == 0 {
		return true
	}
	for _, t := range types {
		if t.GetType() == flowview.EventTypeL7 {
			return true
		}
	}
	return false
}

// httpStatusCodeIn matches response codes: "404" exactly, "4+" or "40+" as
// a prefix of the three-digit code. Requests (code 0) never match.
func httpStatusCodeIn(values []string) (flowFunc, error) {
	var full, prefixes []string
	for _, s := range values {
		switch {
		case httpStatusFull.MatchString(s):
			full = append(full, s)
		case httpStatusPrefix.MatchString(s):
			prefixes = append(prefixes, strings.TrimSuffix(s, "+"))
		default:
			return nil, fmt.Errorf("http_status_code: invalid status code %s: want a code (404) or a prefix (4+, 40+)", quoted(s))
		}
	}
	return func(f *flowpb.Flow) bool {
		http := f.GetL7().GetHttp()
		if http.GetCode() == 0 {
			return false
		}
		var buf [16]byte
		code := zeroPad3(strconv.AppendUint(buf[:0], uint64(http.GetCode()), 10))
		for _, c := range full {
			if string(code) == c {
				return true
			}
		}
		for _, p := range prefixes {
			if strings.HasPrefix(string(code), p) {
				return true
			}
		}
		return false
	}, nil
}

// zeroPad3 left-pads a decimal number to three digits, like "%03d".
func zeroPad3(b []byte) []byte {
	for len(b) < 3 {
		b = append([]byte{'0'}, b...)
	}
	return b
}

func httpMethodIn(methods []string) flowFunc {
	methods = slices.Clone(methods)
	return func(f *flowpb.Flow) bool {
		m := f.GetL7().GetHttp().GetMethod()
		if m == "" {
			return false
		}
		for _, want := range methods {
			if strings.EqualFold(m, want) {
				return true
			}
		}
		return false
	}
}

// httpPathMatches matches the path of the request URL; URLs that do not
// parse never match.
func httpPathMatches(b *budget, exprs []string) (flowFunc, error) {
	res, err := b.compileRegexps("http_path", exprs)
	if err != nil {
		return nil, err
	}
	return func(f *flowpb.Flow) bool {
		raw := f.GetL7().GetHttp().GetUrl()
		if raw == "" {
			return false
		}
		u, err := url.ParseRequestURI(raw)
		return err == nil && anyRegexpMatches(res, u.Path)
	}, nil
}

func httpURLMatches(b *budget, exprs []string) (flowFunc, error) {
	res, err := b.compileRegexps("http_url", exprs)
	if err != nil {
		return nil, err
	}
	return func(f *flowpb.Flow) bool {
		u := f.GetL7().GetHttp().GetUrl()
		return u != "" && anyRegexpMatches(res, u)
	}, nil
}

type httpHeader struct{ key, value string }

// httpHeaderIn matches flows having any of the headers, key and value
// compared exactly.
func httpHeaderIn(headers []*flowpb.HTTPHeader) flowFunc {
	want := make([]httpHeader, len(headers))
	for i, h := range headers {
		want[i] = httpHeader{key: h.GetKey(), value: h.GetValue()}
	}
	return func(f *flowpb.Flow) bool {
		for _, h := range f.GetL7().GetHttp().GetHeaders() {
			for _, w := range want {
				if w.key == h.GetKey() && w.value == h.GetValue() {
					return true
				}
			}
		}
		return false
	}
}
