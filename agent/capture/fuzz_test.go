package capture

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/foveanet/fovea/api/capture/capturepb"
)

// FuzzNewPlan: any capture request is compiled or refused with an error
// (the request path of Capture.Start before any socket is opened).
func FuzzNewPlan(f *testing.F) {
	for _, req := range []*capturepb.StartRequest{
		{Id: "web-1", Filter: "tcp port 80", Limits: &capturepb.Limits{MaxPackets: 10}},
		{Filter: "udp and not port 53", Limits: &capturepb.Limits{SnapLength: 96, MaxBytes: 1 << 20}},
		{Id: "-bad", Filter: "port 99999"},
	} {
		b, err := proto.Marshal(req)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	cfg := Config{Dir: f.TempDir(), MaxConcurrent: 4, MaxStoredBytes: 1 << 30, MaxDuration: time.Hour}
	f.Fuzz(func(t *testing.T, data []byte) {
		var req capturepb.StartRequest
		if err := proto.Unmarshal(data, &req); err != nil {
			return
		}
		_, _ = newPlan(&req, cfg)
	})
}
