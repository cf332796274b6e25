package http

import (
	"errors"
	"strconv"
	"strings"
)

// maxHeaders bounds the headers a flow keeps of one message; the rest are
// read for what the parser needs (Host, Content-Length, …) but not kept.
const maxHeaders = 32

// Errors of parseHead.
var (
	// errStartLine: the request or status line is not HTTP/1.x.
	errStartLine = errors.New("malformed start line")
	// errHeader: a header line is malformed.
	errHeader = errors.New("malformed header line")
	// errCut: the snippet ends before the request or status line does.
	errCut = errors.New("start line cut off")
)

// header is one header line as sent.
type header struct{ name, value string }

// head is an HTTP/1.x message head, as much of it as a snippet holds.
type head struct {
	response bool
	// method, target and proto of a request; proto and code of a response.
	method, target, proto string
	code                  int
	host                  string
	headers               []header
	// complete says the blank line ending the head was seen; size is then
	// the head's length, through that line.
	complete bool
	size     int
	// length is the declared body length: Content-Length, or -1 when the
	// body's end is unknown (chunked, or a response until the connection
	// closes), decided by the caller for responses that have no body.
	length int64
	// chunked is Transfer-Encoding: chunked.
	chunked bool
	// upgrade is the Upgrade header of a message whose Connection header
	// asks for it.
	upgrade string
}

// parseHead parses the message head at the start of b. What it returns
// shares b's memory: a snippet is converted to a string once.
func parseHead(b string) (head, error) {
	var h head
	line, rest, ok := cutLine(b)
	if !ok {
		return h, errCut
	}
	if err := h.startLine(line); err != nil {
		return h, err
	}
	h.length = -1
	var clen int64 = -1
	var connUpgrade bool
	for {
		line, next, ok := cutLine(rest)
		if !ok {
			// The snippet ends inside the head: keep what it holds.
			break
		}
		rest = next
		if len(line) == 0 {
			h.complete = true
			h.size = len(b) - len(rest)
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || !isToken(name) {
			return h, errHeader
		}
		value = strings.Trim(value, " \t")
		switch {
		case strings.EqualFold(name, "host"):
			h.host = value
		case strings.EqualFold(name, "content-length"):
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil || n < 0 {
				return h, errHeader
			}
			clen = n
		case strings.EqualFold(name, "transfer-encoding"):
			h.chunked = containsFold(value, "chunked")
		case strings.EqualFold(name, "connection"):
			connUpgrade = containsFold(value, "upgrade")
		case strings.EqualFold(name, "upgrade"):
			h.upgrade = value
		}
		if len(h.headers) < maxHeaders {
			h.headers = append(h.headers, header{name, value})
		}
	}
	if !connUpgrade {
		h.upgrade = ""
	}
	switch {
	case h.chunked:
	case clen >= 0:
		h.length = clen
	case !h.response:
		// A request without either has no body (RFC 9112 6.3).
		h.length = 0
	}
	return h, nil
}

// startLine parses a request line or a status line.
func (h *head) startLine(line string) error {
	if proto, ok := httpVersion(line); ok {
		// HTTP/1.x SP 3DIGIT [SP reason]
		h.response, h.proto = true, proto
		if len(line) < 12 || line[8] != ' ' || (len(line) > 12 && line[12] != ' ') {
			return errStartLine
		}
		code := 0
		for _, c := range line[9:12] {
			if c < '0' || c > '9' {
				return errStartLine
			}
			code = code*10 + int(c-'0')
		}
		if code < 100 {
			return errStartLine
		}
		h.code = code
		return nil
	}
	method, rest, ok := strings.Cut(line, " ")
	if !ok || !isToken(method) {
		return errStartLine
	}
	target, proto, ok := strings.Cut(rest, " ")
	if !ok || len(target) == 0 {
		return errStartLine
	}
	for i := range len(target) {
		if c := target[i]; c < 0x21 || c == 0x7f {
			return errStartLine
		}
	}
	p, ok := httpVersion(proto)
	if !ok || len(proto) != len(p) {
		return errStartLine
	}
	h.method, h.target, h.proto = method, target, p
	return nil
}

// httpVersion returns "HTTP/1.0" or "HTTP/1.1" when b starts with it.
func httpVersion(b string) (string, bool) {
	switch {
	case strings.HasPrefix(b, "HTTP/1.1"):
		return "HTTP/1.1", true
	case strings.HasPrefix(b, "HTTP/1.0"):
		return "HTTP/1.0", true
	}
	return "", false
}

// cutLine returns b's first line without its CRLF (or bare LF), and what
// follows it; ok is false when b holds no line end.
func cutLine(b string) (line, rest string, ok bool) {
	i := strings.IndexByte(b, '\n')
	if i < 0 {
		return "", b, false
	}
	line = b[:i]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, b[i+1:], true
}

// containsFold reports whether s contains the lower-case ASCII sub,
// ignoring case.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// isToken reports whether s is an HTTP token (RFC 9110 5.6.2): a method or
// a header name.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
