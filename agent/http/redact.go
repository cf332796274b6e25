package http

import (
	"net/url"
	"strings"

	flowpb "github.com/cilium/cilium/api/v1/flow"
)

// redacted replaces what flows must not show, as Hubble writes it.
const redacted = "HUBBLE_REDACTED"

// redaction is what flows hide of URLs and headers (Config.redaction).
type redaction struct {
	query, userInfo bool
	// allow, when set, lists the headers whose values are kept; else deny
	// lists those whose values are redacted. A few names each: a scan
	// without case beats lower-casing every header.
	allow, deny []string
}

// url returns the URL of a request as Hubble's proxy writes it:
// "http://host/path", the host from the Host header, else the server's
// address; ok is false for a target that is no URL.
func (r redaction) url(target, host, server string) (string, bool) {
	if host == "" {
		host = server
	}
	if s, ok := r.plainURL(target, host); ok {
		return s, true
	}
	s, ok := r.parsedURL(target, host)
	// net/url leaves a host's bytes above 0x7f as they are; a flow's
	// strings must be UTF-8 or the flow cannot be sent.
	return strings.ToValidUTF8(s, "\uFFFD"), ok
}

// parsedURL is url through net/url, for any target.
func (r redaction) parsedURL(target, host string) (string, bool) {
	var u *url.URL
	switch {
	case target == "*":
		u = &url.URL{Scheme: "http", Host: host, Path: "*"}
	case strings.HasPrefix(target, "/"):
		var err error
		if u, err = url.ParseRequestURI(target); err != nil {
			return "", false
		}
		u.Scheme, u.Host = "http", host
	case strings.Contains(target, "://"):
		var err error
		if u, err = url.Parse(target); err != nil || u.Host == "" {
			return "", false
		}
	default:
		// CONNECT's authority form: host:port.
		u = &url.URL{Host: target}
	}
	if r.userInfo && u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), redacted)
		}
	}
	if r.query {
		u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
	}
	return u.String(), true
}

// plainURL builds the URL of an origin-form target and a host that need no
// escaping, which is most of them, without net/url's parse and
// reassembly; ok is false for any other, left to net/url.
func (r redaction) plainURL(target, host string) (string, bool) {
	if !strings.HasPrefix(target, "/") || strings.HasPrefix(target, "//") || !plain(target) || !plain(host) || strings.ContainsAny(host, "/?#@") {
		return "", false
	}
	if i := strings.IndexByte(target, '#'); i >= 0 {
		return "", false // a fragment in a request is odd: net/url decides
	}
	if r.query {
		if i := strings.IndexByte(target, '?'); i >= 0 {
			target = target[:i]
		}
	}
	return "http://" + host + target, true
}

// plain reports whether s holds only characters a URL keeps as they are
// (RFC 3986 unreserved, sub-delims, ':', '@', '/', '?'): no
// percent-encoding to check, nothing net/url would escape.
func plain(s string) bool {
	for i := range len(s) {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-._~!$&'()*+,;=:@/?", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// headers returns hs as Hubble's flow headers, values redacted as
// configured.
func (r redaction) headers(hs []header) []*flowpb.HTTPHeader {
	if len(hs) == 0 {
		return nil
	}
	// Two allocations for all: the messages are never copied, only
	// pointed at.
	msgs := make([]flowpb.HTTPHeader, len(hs))
	out := make([]*flowpb.HTTPHeader, len(hs))
	for i, h := range hs {
		m := &msgs[i]
		// Values may hold any byte above 0x7f; a flow's strings must be
		// UTF-8 or the flow cannot be sent.
		m.Key, m.Value = h.name, strings.ToValidUTF8(h.value, "\uFFFD")
		if r.hides(h.name) {
			m.Value = redacted
		}
		out[i] = m
	}
	return out
}

func (r redaction) hides(name string) bool {
	if r.allow != nil {
		return !containsName(r.allow, name)
	}
	return containsName(r.deny, name)
}

func containsName(names []string, name string) bool {
	for _, n := range names {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}
