package flowview

import "github.com/foveanet/fovea/model/record"

// HandshakeSummary is the summary of a TCP SYN-ACK whose connection's SYN
// the datapath saw on this node: the packet's summary and the time between
// the two, so `hubble observe` shows slow connects to any destination in
// its last column: "TCP Flags: SYN, ACK; handshake 1.234ms". Hubble's flow
// has no field for it.
func HandshakeSummary(r *record.Record) string {
	return Summary(r) + "; handshake " + r.Handshake().String()
}
