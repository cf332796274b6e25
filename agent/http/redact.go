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
	// lists those whose values are redacted. Keys are lower case.
	allow, deny map[string]bool
}

// url returns the URL of a request as Hubble's proxy writes it:
// "http://host/path", the host from the Host header, else the server's
// address; ok is false for a target that is no URL.
func (r redaction) url(target, host, server string) (string, bool) {
	if host == "" {
		host = server
	}
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

// headers returns hs as Hubble's flow headers, values redacted as
// configured.
func (r redaction) headers(hs []header) []*flowpb.HTTPHeader {
	if len(hs) == 0 {
		return nil
	}
	out := make([]*flowpb.HTTPHeader, len(hs))
	for i, h := range hs {
		v := h.value
		if r.hides(h.name) {
			v = redacted
		}
		out[i] = &flowpb.HTTPHeader{Key: h.name, Value: v}
	}
	return out
}

func (r redaction) hides(name string) bool {
	if r.allow != nil {
		return !r.allow[strings.ToLower(name)]
	}
	return r.deny[strings.ToLower(name)]
}
