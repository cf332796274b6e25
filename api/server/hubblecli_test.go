package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/api/observer"
	"github.com/foveanet/fovea/api/peer"
	"github.com/foveanet/fovea/api/server"
	"github.com/foveanet/fovea/model/flowview"
	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
	"github.com/foveanet/fovea/ringbuffer"
)

// hubbleBinary is the real hubble CLI the project builds for compatibility
// checks.
const hubbleBinary = "../../.bin/hubble"

// TestHubbleCLI serves a ring of records on a unix socket and checks the
// real hubble CLI reads it.
func TestHubbleCLI(t *testing.T) {
	bin := hubbleCLI(t)
	sock := filepath.Join(t.TempDir(), "hubble.sock")
	write := startAgentAPI(t, server.Config{SocketPath: sock}, 10)

	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, append(args, "--server", "unix://"+sock)...)
		cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("hubble %v: %v\n%s%s", args, err, out, stderr.String())
		}
		return string(out)
	}

	jsonFlows := func(out string) []*flowpb.Flow {
		t.Helper()
		var flows []*flowpb.Flow
		sc := bufio.NewScanner(strings.NewReader(out))
		for sc.Scan() {
			var line struct {
				Flow     json.RawMessage `json:"flow"`
				NodeName string          `json:"node_name"`
				Time     string          `json:"time"`
			}
			if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
				t.Fatalf("bad JSON line %q: %v", sc.Text(), err)
			}
			if line.Flow == nil || line.NodeName == "" || line.Time == "" {
				t.Fatalf("line without flow, node_name or time: %s", sc.Text())
			}
			var f struct {
				L4 struct {
					TCP struct {
						SourcePort int `json:"source_port"`
					} `json:"TCP"`
				} `json:"l4"`
			}
			if err := json.Unmarshal(line.Flow, &f); err != nil {
				t.Fatal(err)
			}
			flows = append(flows, &flowpb.Flow{L4: &flowpb.Layer4{Protocol: &flowpb.Layer4_TCP{
				TCP: &flowpb.TCP{SourcePort: uint32(f.L4.TCP.SourcePort)},
			}}})
		}
		return flows
	}
	ports := func(flows []*flowpb.Flow) []uint32 {
		var p []uint32
		for _, f := range flows {
			p = append(p, f.GetL4().GetTCP().GetSourcePort())
		}
		return p
	}

	if got := ports(jsonFlows(run("observe", "--last", "5", "-o", "json"))); !equal(got, []uint32{40005, 40006, 40007, 40008, 40009}) {
		t.Fatalf("observe --last 5 -o json: ports %v", got)
	}
	if got := ports(jsonFlows(run("observe", "--first", "2", "-o", "json"))); !equal(got, []uint32{40000, 40001}) {
		t.Fatalf("observe --first 2: ports %v", got)
	}
	if got := ports(jsonFlows(run("observe", "--last", "2", "--to-port", "443", "-o", "json"))); !equal(got, []uint32{40007, 40009}) {
		t.Fatalf("observe --to-port 443: ports %v", got)
	}

	// Compact output makes the CLI send its default field mask.
	compact := strings.Split(strings.TrimSpace(run("observe", "--last", "5", "-o", "compact")), "\n")
	if len(compact) != 5 || !strings.Contains(compact[4], "demo/client") || !strings.Contains(compact[4], "TCP Flags") {
		t.Fatalf("observe -o compact:\n%s", strings.Join(compact, "\n"))
	}
	t.Logf("compact output:\n%s", strings.Join(compact, "\n"))

	status := run("status")
	t.Logf("hubble status:\n%s", status)
	for _, want := range []string{"Healthcheck", "Ok", "Current/Max Flows: 10/15"} {
		if !strings.Contains(status, want) {
			t.Fatalf("hubble status lacks %q:\n%s", want, status)
		}
	}
	if nodes := run("list", "nodes"); !strings.Contains(nodes, "kind/node-1") || !strings.Contains(nodes, "Connected") {
		t.Fatalf("hubble list nodes:\n%s", nodes)
	}
	if ns := run("list", "namespaces"); !strings.Contains(ns, "demo") {
		t.Fatalf("hubble list namespaces:\n%s", ns)
	}

	// Following sends only flows written after the stream started.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "observe", "--follow", "-o", "json", "--server", "unix://"+sock)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		_ = cmd.Wait() // killed by cancel
	}()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	// Write until the stream, which may not have started yet, sees a flow.
	for port := uint16(50000); ; port++ {
		write(port)
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatal("hubble observe --follow exited")
			}
			if got := ports(jsonFlows(line)); len(got) != 1 || got[0] < 50000 {
				t.Fatalf("follow sent %s", line)
			}
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// hubbleCLI returns the hubble binary's path, skipping the test without it.
func hubbleCLI(t *testing.T) string {
	t.Helper()
	bin, err := filepath.Abs(hubbleBinary)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("hubble CLI not built at %s: %v", bin, err)
	}
	return bin
}

// TestHubbleCLIMutualTLS checks the real CLI talks TLS 1.3 with a client
// certificate to the TCP listener, and is refused without one.
func TestHubbleCLIMutualTLS(t *testing.T) {
	bin := hubbleCLI(t)
	dir := t.TempDir()
	pki := server.WriteTestPKI(t, dir)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	startAgentAPI(t, server.Config{
		SocketPath: filepath.Join(dir, "hubble.sock"), ListenAddress: addr,
		TLSCertFile: pki.Cert, TLSKeyFile: pki.Key, TLSClientCAFiles: []string{pki.ClientCA},
	}, 3)
	status := func(withClientCert bool) (string, error) {
		args := []string{"status", "--server", "tls://" + addr, "--timeout", "3s",
			"--tls-ca-cert-files", pki.CA, "--tls-server-name", server.TestServerName}
		if withClientCert {
			args = append(args, "--tls-client-cert-file", pki.ClientCert, "--tls-client-key-file", pki.ClientKey)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := status(true)
	if err != nil || !strings.Contains(out, "Current/Max Flows: 3/15") {
		t.Fatalf("hubble status over mTLS: %v\n%s", err, out)
	}
	if out, err := status(false); err == nil {
		t.Fatalf("hubble status without a client certificate succeeded:\n%s", out)
	}
}

// startAgentAPI serves n TCP records, the last one now, until the test ends.
// It returns a function writing one more record, now, from a source port.
func startAgentAPI(t *testing.T, cfg server.Config, n int) func(srcPort uint16) {
	t.Helper()
	ring, err := ringbuffer.New[record.Record](15)
	if err != nil {
		t.Fatal(err)
	}
	tables := intern.NewTables()
	node := flowview.NewNode("node-1", "kind", "v0.0.1-test", nil, tables)
	client := tables.Endpoints.Intern("client", func() *flowpb.Endpoint {
		return &flowpb.Endpoint{ID: 12, Identity: 4242, Namespace: "demo", PodName: "client", Labels: []string{"k8s:app=client"}}
	})
	world := tables.Endpoints.Intern("world", func() *flowpb.Endpoint {
		return &flowpb.Endpoint{Identity: 2, Labels: []string{"reserved:world"}}
	})
	namespaces := observer.NewNamespaceTracker(observer.WithNamespaceCluster(node.Cluster))
	write := func(at time.Time, srcPort uint16) {
		rec := record.Record{
			Kind:        record.KindTrace,
			Proto:       record.ProtoTCP,
			Time:        at.UnixNano(),
			SrcPort:     srcPort,
			DstPort:     443,
			TCPFlags:    record.TCPSyn,
			Verdict:     uint8(flowpb.Verdict_FORWARDED),
			ObsPoint:    uint8(flowpb.TraceObservationPoint_TO_STACK),
			SrcEndpoint: client,
			DstEndpoint: world,
		}
		if srcPort%2 == 0 {
			rec.DstPort = 80
		}
		rec.SetAddrs(netip.MustParseAddr("10.244.0.7"), netip.MustParseAddr("93.184.216.34"))
		seq := ring.Write(&rec)
		var ev flowview.Flow
		ev.Reset(node, &rec, seq)
		namespaces.ObserveEvent(&ev)
	}
	now := time.Now()
	for i := range n {
		write(now.Add(time.Duration(i-n+1)*time.Second), uint16(40000+i))
	}
	obs, err := observer.New(ring, node,
		observer.WithNamespaces(namespaces),
		observer.WithSeenFlows(func() uint64 { return uint64(n) }),
	)
	if err != nil {
		t.Fatal(err)
	}
	sock := cfg.SocketPath
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := server.New(cfg, log, obs, peer.NewSelf(node, cfg), server.WithVersion(node.Version))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	// Run listens on the unix socket, then on TCP.
	for deadline := time.Now().Add(5 * time.Second); ; {
		_, err := os.Stat(sock)
		if err == nil && cfg.ListenAddress != "" {
			var c net.Conn
			if c, err = net.Dial("tcp", cfg.ListenAddress); err == nil {
				c.Close()
			}
		}
		if err == nil {
			return func(srcPort uint16) { write(time.Now(), srcPort) }
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not start listening: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func equal(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
