package flowview

import (
	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/record"
)

// tcpFlagMask covers the nine TCP flags a record holds.
const tcpFlagMask = 1<<9 - 1

// Every flag combination's summaries and flags message, built once: a flow
// then costs no string building for them, and the messages are shared like
// the interned ones (flows are never modified).
var (
	tcpSummaries            [tcpFlagMask + 1]string
	retransmissionSummaries [tcpFlagMask + 1]string
	tcpFlagMessages         [tcpFlagMask + 1]*flowpb.TCPFlags
)

func init() {
	for b := range uint16(tcpFlagMask + 1) {
		names := TCPFlagNames(b)
		tcpSummaries[b] = "TCP Flags: " + names
		retransmissionSummaries[b] = "TCP Retransmission, Flags: " + names
		tcpFlagMessages[b] = &flowpb.TCPFlags{
			FIN: b&record.TCPFin != 0, SYN: b&record.TCPSyn != 0, RST: b&record.TCPRst != 0,
			PSH: b&record.TCPPsh != 0, ACK: b&record.TCPAck != 0, URG: b&record.TCPUrg != 0,
			ECE: b&record.TCPEce != 0, CWR: b&record.TCPCwr != 0, NS: b&record.TCPNs != 0,
		}
	}
}
