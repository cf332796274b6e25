package flowmetrics

import (
	"github.com/foveanet/fovea/model/record"
)

// tcpHandler counts the TCP flags that open and close connections — SYN,
// SYN-ACK, FIN, RST — of forwarded TCP flows (hubble_tcp_flags_total).
type tcpHandler struct {
	base
	flags *store
	tail  []byte // the family and context values, after the flag's
}

func newTCPHandler(b base, _ map[string]bool, limit int) handler {
	return &tcpHandler{base: b, flags: newStore("hubble_tcp_flags_total", "TCP flag occurrences",
		b.labels("flag", "family"), b.ctx.namesEndpoints(), limit)}
}

func (h *tcpHandler) stores() []*store { return []*store{h.flags} }

func (h *tcpHandler) observe(ev *event) {
	r := &ev.Rec
	// L7 flows carry no TCP flags.
	if r.Proto != record.ProtoTCP || r.Kind == record.KindL7 || !countable(r.Verdict) {
		return
	}
	f := r.TCPFlags
	if f&(record.TCPFin|record.TCPSyn|record.TCPRst) == 0 || !h.match(ev) {
		return
	}
	h.tail = appendName(h.tail[:0], familyName(r.IsIPv6()))
	h.tail = h.ctx.appendValues(h.tail, ev)
	if f&record.TCPFin != 0 {
		h.count("FIN", ev.now)
	}
	if f&record.TCPSyn != 0 {
		if f&record.TCPAck != 0 {
			h.count("SYN-ACK", ev.now)
		} else {
			h.count("SYN", ev.now)
		}
	}
	if f&record.TCPRst != 0 {
		h.count("RST", ev.now)
	}
}

func (h *tcpHandler) count(flag string, now int64) {
	h.key = append(appendName(h.key[:0], flag), h.tail...)
	h.flags.inc(h.key, now)
}
