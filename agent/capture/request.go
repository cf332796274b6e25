package capture

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"time"

	"golang.org/x/net/bpf"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/foveanet/fovea/agent/capture/pcapfilter"
	"github.com/foveanet/fovea/api/capture/capturepb"
)

// limits end a capture.
type limits struct {
	duration time.Duration
	packets  uint64 // 0: no limit
	// bytes bounds the capture's file: the packets' blocks, the
	// headers and interface blocks before them.
	bytes uint64
	snap  uint32
}

func (l limits) proto() *capturepb.Limits {
	return &capturepb.Limits{Duration: durationpb.New(l.duration), MaxPackets: l.packets, MaxBytes: l.bytes, SnapLength: l.snap}
}

// plan is a checked request.
type plan struct {
	id     string
	req    *capturepb.StartRequest
	sel    *selector
	prog   []bpf.RawInstruction
	limits limits
}

// idPattern is what a capture id may be: it names the capture's file.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// newPlan checks req against the node's bounds and compiles it. Errors
// name the request's field, for an InvalidArgument status.
func newPlan(req *capturepb.StartRequest, cfg Config) (*plan, error) {
	p := &plan{id: req.GetId(), req: req}
	if p.id == "" {
		p.id = newID()
	} else if !idPattern.MatchString(p.id) {
		return nil, fmt.Errorf("id: %q is not 1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit", p.id)
	}
	var err error
	if p.sel, err = newSelector(req.GetSelector()); err != nil {
		return nil, err
	}
	if p.limits, err = checkLimits(req.GetLimits(), cfg); err != nil {
		return nil, err
	}
	if p.prog, err = pcapfilter.Compile(req.GetFilter(), p.limits.snap); err != nil {
		return nil, fmt.Errorf("filter: %w", err)
	}
	return p, nil
}

// minBytes is the smallest size limit: a file's section header and a few
// interface blocks.
const minBytes = 4096

func checkLimits(in *capturepb.Limits, cfg Config) (limits, error) {
	l := limits{duration: DefaultDuration, packets: in.GetMaxPackets(), bytes: DefaultMaxBytes, snap: DefaultSnapLength}
	if d := in.GetDuration(); d != nil {
		if err := d.CheckValid(); err != nil {
			return limits{}, fmt.Errorf("limits.duration: %w", err)
		}
		switch v := d.AsDuration(); {
		case v < 0:
			return limits{}, fmt.Errorf("limits.duration: %v is negative", v)
		case v > cfg.MaxDuration:
			return limits{}, fmt.Errorf("limits.duration: %v exceeds the node's longest, %v", v, cfg.MaxDuration)
		case v > 0:
			l.duration = v
		}
	}
	if l.duration > cfg.MaxDuration {
		l.duration = cfg.MaxDuration
	}
	switch b := in.GetMaxBytes(); {
	case b == 0:
		l.bytes = min(l.bytes, uint64(cfg.MaxStoredBytes))
	case b < minBytes:
		return limits{}, fmt.Errorf("limits.max_bytes: %d is less than %d", b, minBytes)
	case b > uint64(cfg.MaxStoredBytes):
		return limits{}, fmt.Errorf("limits.max_bytes: %d exceeds what the node stores, %d", b, cfg.MaxStoredBytes)
	default:
		l.bytes = b
	}
	switch s := in.GetSnapLength(); {
	case s == 0:
	case s < minSnapLength || s > DefaultSnapLength:
		return limits{}, fmt.Errorf("limits.snap_length: %d is not from %d to %d", s, minSnapLength, DefaultSnapLength)
	default:
		l.snap = s
	}
	return l, nil
}

// newID returns a fresh capture id: 12 random hex digits.
func newID() string {
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux or Windows
	return hex.EncodeToString(b[:])
}
