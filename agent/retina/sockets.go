package retina

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// tcpStateNames are Retina's names of the kernel's TCP states (TCP_* in
// include/net/tcp_states.h), as netstat prints them; CLOSE is "".
var tcpStateNames = [...]string{
	"UNKNOWN", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
	"TIME_WAIT", "", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING",
}

func tcpStateName(s uint8) string {
	if int(s) < len(tcpStateNames) {
		return tcpStateNames[s]
	}
	return tcpStateNames[0]
}

// tcpSocket is what the socket series need of a TCP socket.
type tcpSocket struct {
	state  uint8
	remote netip.AddrPort
}

// tallySockets builds tcp_state, tcp_connection_remote and
// udp_connection_stats from the node's TCP sockets and its count of UDP
// sockets. Remotes are the peers of connected sockets, loopback left out
// (as Retina does); over limit, those with the most sockets are kept, and
// the others' number is returned.
func tallySockets(tcp []tcpSocket, udp int, limit int) ([]prometheus.Metric, int) {
	states := make([]int, len(tcpStateNames))
	remotes := map[netip.AddrPort]int{}
	for _, s := range tcp {
		st := s.state
		if int(st) >= len(states) {
			st = 0
		}
		states[st]++
		a := s.remote.Addr().Unmap()
		if a.IsUnspecified() || a.IsLoopback() || !a.IsValid() {
			continue
		}
		remotes[netip.AddrPortFrom(a, s.remote.Port())]++
	}
	var out []prometheus.Metric
	for st, n := range states {
		if n > 0 {
			out = append(out, prometheus.MustNewConstMetric(descTCPState, prometheus.GaugeValue, float64(n), tcpStateName(uint8(st))))
		}
	}
	type remote struct {
		ap netip.AddrPort
		n  int
	}
	list := make([]remote, 0, len(remotes))
	for ap, n := range remotes {
		list = append(list, remote{ap, n})
	}
	slices.SortFunc(list, func(a, b remote) int {
		if c := cmp.Compare(b.n, a.n); c != 0 {
			return c
		}
		return a.ap.Compare(b.ap)
	})
	omitted := max(len(list)-limit, 0)
	for _, r := range list[:len(list)-omitted] {
		out = append(out, prometheus.MustNewConstMetric(descTCPRemote, prometheus.GaugeValue, float64(r.n),
			r.ap.Addr().String(), strconv.Itoa(int(r.ap.Port()))))
	}
	out = append(out, prometheus.MustNewConstMetric(descUDPStats, prometheus.GaugeValue, float64(udp), "ACTIVE"))
	return out, omitted
}
