package relay

import (
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers of observer.GetFlowsResponse and google.protobuf.Timestamp
// the relay reads from the wire.
const (
	fieldNodeStatus protowire.Number = 2
	fieldTime       protowire.Number = 1001
	fieldSeconds    protowire.Number = 1
	fieldNanos      protowire.Number = 2
)

// rawResponse is a node's GetFlowsResponse in wire form. The relay only
// needs its time to merge it, so it forwards the bytes it received instead
// of decoding and re-encoding every flow; field masks were applied by the
// node, and nodes set node_name themselves.
type rawResponse struct {
	data []byte
	// buf holds data's gRPC buffers while the response waits to be sent;
	// sending hands it back to gRPC. It is nil when data is a copy.
	buf mem.BufferSlice
	at  time.Time
	// nodeStatus is set for a node_status event, which only relays send.
	nodeStatus bool
}

// parse reads the response's time and kind from its top-level fields.
func (r *rawResponse) parse() error {
	b := r.data
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("parse GetFlowsResponse: %w", protowire.ParseError(n))
		}
		b = b[n:]
		if typ == protowire.BytesType && (num == fieldTime || num == fieldNodeStatus) {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return fmt.Errorf("parse GetFlowsResponse: %w", protowire.ParseError(n))
			}
			if num == fieldNodeStatus {
				r.nodeStatus = true
			} else if err := r.parseTime(v); err != nil {
				return err
			}
			b = b[n:]
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return fmt.Errorf("parse GetFlowsResponse: %w", protowire.ParseError(n))
		}
		b = b[n:]
	}
	return nil
}

func (r *rawResponse) parseTime(b []byte) error {
	var secs, nanos int64
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("parse GetFlowsResponse.time: %w", protowire.ParseError(n))
		}
		b = b[n:]
		if typ == protowire.VarintType && (num == fieldSeconds || num == fieldNanos) {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return fmt.Errorf("parse GetFlowsResponse.time: %w", protowire.ParseError(n))
			}
			if num == fieldSeconds {
				secs = int64(v)
			} else {
				nanos = int64(int32(v))
			}
			b = b[n:]
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return fmt.Errorf("parse GetFlowsResponse.time: %w", protowire.ParseError(n))
		}
		b = b[n:]
	}
	r.at = time.Unix(secs, nanos)
	return nil
}

// rawCodec is gRPC's protobuf codec that also passes rawResponses through
// as they are.
type rawCodec struct{}

var protoCodec = encoding.GetCodecV2(proto.Name)

var errNoProtoCodec = errors.New("gRPC's protobuf codec is not registered")

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	if r, ok := v.(*rawResponse); ok {
		if b := r.buf; b != nil {
			// gRPC frees what Marshal returns once written: the reference
			// taken on receipt goes with it, so a response is sent once.
			r.buf = nil
			return b, nil
		}
		return mem.BufferSlice{mem.SliceBuffer(r.data)}, nil
	}
	if protoCodec == nil {
		return nil, errNoProtoCodec
	}
	return protoCodec.Marshal(v)
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if r, ok := v.(*rawResponse); ok {
		// gRPC frees data on return. A message in one buffer, as a flow
		// nearly always is, is kept by reference rather than copied: copying
		// every flow was a large share of the relay's CPU.
		if len(data) == 1 {
			data.Ref()
			r.buf, r.data = data, data[0].ReadOnlyData()
		} else {
			r.data = data.Materialize()
		}
		if err := r.parse(); err != nil {
			r.buf.Free()
			r.buf = nil
			return err
		}
		return nil
	}
	if protoCodec == nil {
		return errNoProtoCodec
	}
	return protoCodec.Unmarshal(data, v)
}

// Name is the protobuf codec's: the wire format is protobuf either way.
func (rawCodec) Name() string { return proto.Name }

// ServerOptions are the gRPC server options the relay's Observer needs: it
// sends nodes' responses in the wire form it received them in.
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{grpc.ForceServerCodecV2(rawCodec{})}
}
