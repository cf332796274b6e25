package http

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"
)

// The HTTP flags of the agent. The redaction flags are Cilium's
// --hubble-redact-http-*, so a Cilium configuration carries over.
const (
	// FlagDisable turns HTTP visibility off; a platform without it
	// refuses it set to false.
	FlagDisable        = "disable-http"
	flagRateLimit      = "http-rate-limit"
	flagConnections    = "http-connections"
	flagRedactURLQuery = "hubble-redact-http-urlquery"
	flagRedactUserInfo = "hubble-redact-http-userinfo"
	flagHeadersAllow   = "hubble-redact-http-headers-allow"
	flagHeadersDeny    = "hubble-redact-http-headers-deny"
)

// Defaults of the flags, also taken for zero fields of a Config built in
// code.
const (
	DefaultRateLimit   = 20000
	DefaultConnections = 16384
)

// DefaultHeadersDeny are the headers whose values are redacted unless the
// allow or deny list is set: credentials and session cookies.
var DefaultHeadersDeny = []string{"authorization", "proxy-authorization", "cookie", "set-cookie"}

// Config is what HTTP visibility reports and how much it may cost.
type Config struct {
	// Disable turns HTTP visibility off: the datapath sends no HTTP
	// snippets.
	Disable bool
	// RateLimit is how many segments starting an HTTP message each CPU
	// sends to the parser per second; the rest are counted and not parsed.
	// Zero means DefaultRateLimit.
	RateLimit uint
	// Connections bounds the pairing table: connections (per interface)
	// whose requests await their responses. Zero means DefaultConnections.
	Connections int
	// RedactURLQuery drops the query and fragment of URLs; RedactUserInfo
	// replaces the password of a URL's user information.
	RedactURLQuery, RedactUserInfo bool
	// HeadersAllow, when set, keeps the values of these headers only;
	// HeadersDeny redacts the values of these. Names are case-insensitive;
	// at most one list may be set.
	HeadersAllow, HeadersDeny []string
}

// Flags registers the HTTP flags, bound to c's fields; disabled is
// --disable-http's default, true where the packet source reads no payload.
func (c *Config) Flags(fs *pflag.FlagSet, disabled bool) {
	fs.BoolVar(&c.Disable, FlagDisable, disabled, "do not report HTTP requests and responses (L7 flows of plaintext HTTP/1.x seen in the datapath)")
	fs.UintVar(&c.RateLimit, flagRateLimit, DefaultRateLimit,
		"TCP segments starting an HTTP message each CPU sends to the parser per second; more are counted in fovea_bpf_http_snippets_refused_total")
	fs.IntVar(&c.Connections, flagConnections, DefaultConnections,
		"connections per interface whose HTTP requests await responses; the least recently active beyond it are forgotten, their requests counted as unanswered")
	fs.BoolVar(&c.RedactURLQuery, flagRedactURLQuery, true, "drop the query and fragment of HTTP URLs in flows")
	fs.BoolVar(&c.RedactUserInfo, flagRedactUserInfo, true, "replace the password in an HTTP URL's user information in flows")
	fs.StringSliceVar(&c.HeadersAllow, flagHeadersAllow, nil,
		"HTTP headers whose values flows keep; every other header's value is redacted (instead of --"+flagHeadersDeny+")")
	fs.StringSliceVar(&c.HeadersDeny, flagHeadersDeny, DefaultHeadersDeny,
		"HTTP headers whose values flows redact; the others are kept")
}

// Validate reports the first invalid setting, named as its flag.
func (c Config) Validate() error {
	if c.Disable {
		return nil
	}
	switch {
	case c.RateLimit > 1<<24:
		return fmt.Errorf("--%s: %d exceeds %d", flagRateLimit, c.RateLimit, 1<<24)
	case c.Connections < 0 || c.Connections > 1<<22:
		return fmt.Errorf("--%s: %d must be between 1 and %d", flagConnections, c.Connections, 1<<22)
	case len(c.HeadersAllow) > 0 && len(c.HeadersDeny) > 0 && !isDefaultDeny(c.HeadersDeny):
		return fmt.Errorf("--%s and --%s: set one list, not both", flagHeadersAllow, flagHeadersDeny)
	}
	for _, l := range []struct {
		flag  string
		names []string
	}{{flagHeadersAllow, c.HeadersAllow}, {flagHeadersDeny, c.HeadersDeny}} {
		for _, n := range l.names {
			if !isToken(n) {
				return fmt.Errorf("--%s: %q is not a header name", l.flag, n)
			}
		}
	}
	return nil
}

// Rate returns the datapath's snippets per CPU and second: zero when HTTP
// is off.
func (c Config) Rate() uint32 {
	switch {
	case c.Disable:
		return 0
	case c.RateLimit == 0:
		return DefaultRateLimit
	}
	return uint32(c.RateLimit) // Validate bounded it
}

// redaction returns the header lists in effect: an allow list replaces
// the default deny list.
func (c Config) redaction() redaction {
	r := redaction{query: c.RedactURLQuery, userInfo: c.RedactUserInfo}
	if len(c.HeadersAllow) > 0 {
		r.allow = c.HeadersAllow
	} else {
		r.deny = c.HeadersDeny
	}
	return r
}

func isDefaultDeny(names []string) bool {
	if len(names) != len(DefaultHeadersDeny) {
		return false
	}
	for i, n := range names {
		if !strings.EqualFold(n, DefaultHeadersDeny[i]) {
			return false
		}
	}
	return true
}
