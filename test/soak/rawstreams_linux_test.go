//go:build linux

package soak

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	observerpb "github.com/cilium/cilium/api/v1/observer"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// rawStreams opens n GetFlows streams for req from one client over conns
// raw HTTP/2 connections, as an attacker would: frames written directly,
// no goroutine or buffer per stream on its side, so what it costs is the
// server's. It returns once each stream is held (response headers came
// without an end) or refused (RESOURCE_EXHAUSTED); the held ones stay open
// until ctx ends, and closeAll ends them.
func rawStreams(t *testing.T, ctx context.Context, target string, conns, n int, req *observerpb.GetFlowsRequest) (held, refused int64, closeAll func()) {
	t.Helper()
	body, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	// A gRPC message: uncompressed flag, length, the message.
	msg := binary.BigEndian.AppendUint32([]byte{0}, uint32(len(body)))
	msg = append(msg, body...)
	var h, r atomic.Int64
	var decided sync.WaitGroup
	decided.Add(n)
	var cs []net.Conn
	var readers sync.WaitGroup
	for c := range conns {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.1")}}
		conn, err := d.DialContext(ctx, "tcp", target)
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, conn)
		streams := n / conns
		if c < n%conns {
			streams++
		}
		fr, err := openRawStreams(conn, target, streams, msg)
		if err != nil {
			t.Fatal(err)
		}
		readers.Go(func() {
			outcome := func(held bool) {
				if held {
					h.Add(1)
				} else {
					r.Add(1)
				}
				decided.Done()
			}
			if err := readRawStreams(fr, outcome); err != nil && ctx.Err() == nil {
				t.Errorf("read streams: %v", err)
			}
		})
	}
	waited := make(chan struct{})
	go func() { decided.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-ctx.Done():
		t.Errorf("%d of %d streams without an outcome when the attack ended", int64(n)-h.Load()-r.Load(), n)
	}
	return h.Load(), r.Load(), func() {
		for _, c := range cs {
			c.Close()
		}
		readers.Wait()
	}
}

// openRawStreams writes the connection preface and n GetFlows calls of msg.
func openRawStreams(conn net.Conn, authority string, n int, msg []byte) (*http2.Framer, error) {
	if _, err := conn.Write([]byte(http2.ClientPreface)); err != nil {
		return nil, err
	}
	fr := http2.NewFramer(conn, conn)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	if err := fr.WriteSettings(); err != nil {
		return nil, err
	}
	// A window large enough that the server never waits for this client.
	if err := fr.WriteWindowUpdate(0, 1<<30); err != nil {
		return nil, err
	}
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for _, f := range [][2]string{
		{":method", "POST"}, {":scheme", "http"}, {":path", "/observer.Observer/GetFlows"}, {":authority", authority},
		{"content-type", "application/grpc"}, {"te", "trailers"},
	} {
		if err := enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]}); err != nil {
			return nil, err
		}
	}
	block := hb.Bytes()
	for i := range n {
		id := uint32(2*i + 1)
		if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block, EndHeaders: true}); err != nil {
			return nil, err
		}
		if err := fr.WriteData(id, true, msg); err != nil {
			return nil, err
		}
	}
	return fr, nil
}

// readRawStreams reads the server's frames, answering its settings and
// pings, and reports each stream's outcome once, until the connection ends.
func readRawStreams(fr *http2.Framer, outcome func(held bool)) error {
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return nil // the connection closed
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				if err := fr.WriteSettingsAck(); err != nil {
					return err
				}
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				if err := fr.WritePing(true, f.Data); err != nil {
					return err
				}
			}
		case *http2.MetaHeadersFrame:
			status := f.PseudoValue("status")
			grpcStatus := ""
			held := false
			for _, hf := range f.RegularFields() {
				switch hf.Name {
				case "grpc-status":
					grpcStatus = hf.Value
				case "hubble-server-version":
					held = true
				}
			}
			switch {
			case grpcStatus == fmt.Sprint(int(codes.ResourceExhausted)):
				outcome(false)
			case held && !f.StreamEnded():
				outcome(true)
			case grpcStatus != "" || status != "":
				return fmt.Errorf("stream %d: status %q, grpc-status %q", f.StreamID, status, grpcStatus)
			}
		}
	}
}
