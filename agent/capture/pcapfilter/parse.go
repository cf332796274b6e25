package pcapfilter

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// expr is a parsed expression: and, or, not or a primitive.
type expr interface{}

type (
	andExpr struct{ a, b expr }
	orExpr  struct{ a, b expr }
	notExpr struct{ a expr }
	// prim is one primitive: an optional protocol, direction and kind,
	// and the value the kind takes.
	prim struct {
		proto, dir, kind string
		value            string
	}
)

var (
	protoWords = map[string]bool{"ip": true, "ip6": true, "arp": true, "tcp": true, "udp": true, "sctp": true, "icmp": true, "icmp6": true}
	dirWords   = map[string]bool{"src": true, "dst": true}
	kindWords  = map[string]bool{"host": true, "net": true, "port": true, "portrange": true}
)

type parser struct {
	toks []string
	pos  int
}

// parse parses s into an expression.
func parse(s string) (expr, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.pos])
	}
	return e, nil
}

func lex(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case c == '(' || c == ')' || c == '!':
			toks = append(toks, string(c))
			i++
		case strings.HasPrefix(s[i:], "&&"), strings.HasPrefix(s[i:], "||"):
			toks = append(toks, s[i:i+2])
			i += 2
		case isWordByte(c):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			toks = append(toks, strings.ToLower(s[i:j]))
			i = j
		default:
			return nil, fmt.Errorf("unexpected character %q", c)
		}
	}
	return toks, nil
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == ':' || c == '/' || c == '-' || c == '_'
}

func (p *parser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *parser) next() string {
	t := p.peek()
	p.pos++
	return t
}

func (p *parser) or() (expr, error) {
	a, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peek() == "or" || p.peek() == "||" {
		p.next()
		b, err := p.and()
		if err != nil {
			return nil, err
		}
		a = orExpr{a, b}
	}
	return a, nil
}

func (p *parser) and() (expr, error) {
	a, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.peek() == "and" || p.peek() == "&&" {
		p.next()
		b, err := p.unary()
		if err != nil {
			return nil, err
		}
		a = andExpr{a, b}
	}
	return a, nil
}

func (p *parser) unary() (expr, error) {
	switch p.peek() {
	case "not", "!":
		p.next()
		a, err := p.unary()
		if err != nil {
			return nil, err
		}
		return notExpr{a}, nil
	case "(":
		p.next()
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.next() != ")" {
			return nil, fmt.Errorf("missing )")
		}
		return e, nil
	case "":
		return nil, fmt.Errorf("expression ends early")
	}
	return p.primitive()
}

func (p *parser) primitive() (expr, error) {
	var pr prim
	if protoWords[p.peek()] {
		pr.proto = p.next()
	}
	if dirWords[p.peek()] {
		pr.dir = p.next()
	}
	if kindWords[p.peek()] {
		pr.kind = p.next()
	}
	switch {
	case pr.kind == "" && pr.dir == "" && pr.proto != "":
		return pr, nil
	case pr.kind == "":
		// A bare address, or a direction before one, means host.
		pr.kind = "host"
	}
	v := p.next()
	if v == "" || v == ")" {
		return nil, fmt.Errorf("%s needs a value", pr.kind)
	}
	pr.value = v
	if err := pr.check(); err != nil {
		return nil, err
	}
	return pr, nil
}

// check reports a value its kind cannot take, or a protocol that rules the
// primitive out.
func (pr prim) check() error {
	switch pr.kind {
	case "host":
		if _, err := netip.ParseAddr(pr.value); err != nil {
			return fmt.Errorf("host %q is not an IP address", pr.value)
		}
	case "net":
		if _, err := netip.ParsePrefix(pr.value); err != nil {
			return fmt.Errorf("net %q is not an address prefix (a.b.c.d/n)", pr.value)
		}
	case "port":
		if _, err := parsePort(pr.value); err != nil {
			return err
		}
		if !portProto[pr.proto] {
			return fmt.Errorf("%s has no ports", pr.proto)
		}
	case "portrange":
		lo, hi, ok := strings.Cut(pr.value, "-")
		l, err1 := parsePort(lo)
		h, err2 := parsePort(hi)
		if !ok || err1 != nil || err2 != nil || l > h {
			return fmt.Errorf("portrange %q is not N-M with N ≤ M", pr.value)
		}
		if !portProto[pr.proto] {
			return fmt.Errorf("%s has no ports", pr.proto)
		}
	}
	if pr.kind == "host" || pr.kind == "net" {
		if pr.proto == "arp" {
			return fmt.Errorf("arp %s is not supported", pr.kind)
		}
	}
	return nil
}

// portProto are the protocol qualifiers a port primitive takes ("" for
// none).
var portProto = map[string]bool{"": true, "ip": true, "ip6": true, "tcp": true, "udp": true, "sctp": true}

func parsePort(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0, fmt.Errorf("port %q is not a number from 0 to 65535", s)
	}
	return uint32(n), nil
}
