package agent

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"

	"github.com/foveanet/fovea/test/testca"
)

// mtlsCollector answers OTLP logs calls over mutual TLS and reports the
// authorization header of each.
type mtlsCollector struct {
	collogspb.UnimplementedLogsServiceServer
	auth chan string
}

func (c *mtlsCollector) Export(ctx context.Context, _ *collogspb.ExportLogsServiceRequest) (*collogspb.ExportLogsServiceResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	c.auth <- strings.Join(md.Get("authorization"), ",")
	return &collogspb.ExportLogsServiceResponse{}, nil
}

// TestOTLPMutualTLS sends an OTLP call as the agent's flags set it up to a
// collector requiring a client certificate: with the CA, the client
// certificate, the server name, a header and gzip, it goes through.
func TestOTLPMutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca, clientCA := testca.New(t, "collector CA"), testca.New(t, "agent CA")
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{ca.KeyPair(t, "collector.test")},
		ClientCAs:    clientCA.Pool(), ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS13,
	})))
	coll := &mtlsCollector{auth: make(chan string, 1)}
	collogspb.RegisterLogsServiceServer(gs, coll)
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	cert, key := clientCA.IssueFiles(t, dir, "agent", "fovea-agent")
	cfg := OTLPConfig{
		Endpoint: lis.Addr().String(), CAFiles: []string{testca.WriteFile(t, dir, "ca.crt", ca.PEM)},
		CertFile: cert, KeyFile: key, ServerName: "collector.test",
		Headers: map[string]string{"authorization": "Bearer s3cret"}, Compression: "gzip",
		BatchSize: 1, QueueSize: 1, BatchTimeout: time.Second, Timeout: 5 * time.Second,
	}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	o, err := cfg.exporter(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := o.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ctx = metadata.NewOutgoingContext(ctx, metadata.New(o.Headers))
	if _, err := collogspb.NewLogsServiceClient(conn).Export(ctx, &collogspb.ExportLogsServiceRequest{}, o.CallOptions...); err != nil {
		t.Fatalf("export over mutual TLS: %v", err)
	}
	if got := <-coll.auth; got != "Bearer s3cret" {
		t.Errorf("collector got authorization %q", got)
	}

	// Without the client certificate the collector refuses the call.
	cfg.CertFile, cfg.KeyFile = "", ""
	o, err = cfg.exporter(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	conn2, err := o.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	if _, err := collogspb.NewLogsServiceClient(conn2).Export(ctx, &collogspb.ExportLogsServiceRequest{}); err == nil {
		t.Error("a call without a client certificate went through")
	}
}
