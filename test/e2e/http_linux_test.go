//go:build linux

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/test/cluster"
	"github.com/foveanet/fovea/test/kube"
	"github.com/foveanet/fovea/test/traffic"
)

// Ports of the HTTP servers in the test's pods (the traffic servers hold
// 8080).
const (
	goHTTPPort = 8081
	pyHTTPPort = 8000
)

// httpExchange is one request the test made and the response it got.
type httpExchange struct {
	method, url string // the URL as flows show it (query redacted)
	code        int
}

// TestHTTP sends HTTP/1.x from a pod on one node to a Go net/http server
// and a Python http.server on the other, with curl (keep-alive, a 404, a
// 500, a 2 MB response, a body starting with "GET /" behind Expect:
// 100-continue), raw pipelined requests and a Go client on 100 concurrent
// connections. The real hubble CLI must show, on each node, exactly one
// REQUEST and one RESPONSE flow per request with its method, URL, code and
// latency (EGRESS at the client's node, INGRESS at the server's), and its
// HTTP filters must select exactly the right ones. The real Prometheus
// reads the httpV2 series by workload and status, and its p95 over the
// histogram lands within a bucket of what the client measured.
func TestHTTP(t *testing.T) {
	mc := startMetricsCluster(t, "fvhttp-",
		"--metrics=httpV2:sourceContext=workload-name|pod;destinationContext=workload-name|pod")
	e := &env{hubbleBin: os.Getenv("HUBBLE_BIN")}
	if e.hubbleBin == "" {
		t.Fatal("HUBBLE_BIN is not set: run the end-to-end tests with `make e2e`")
	}
	ctx := mc.ctx
	client, goSrv, pySrv := mc.hosts[0], mc.hosts[2], mc.hosts[3]
	clientNS, err := mc.cluster.PodNetns(client.Name)
	if err != nil {
		t.Fatal(err)
	}
	goURL := fmt.Sprintf("http://%s:%d", goSrv.IPv4, goHTTPPort)
	pyURL := fmt.Sprintf("http://%s:%d", pySrv.IPv4, pyHTTPPort)
	serveGo(t, mc.life, goSrv)
	servePython(t, mc, pySrv)

	var want []httpExchange
	add := func(method, url string, code int) { want = append(want, httpExchange{method, url, code}) }

	// curl, keep-alive: several requests on one connection.
	out := curl(t, ctx, clientNS, "-w", "%{http_code} %{num_connects}\n",
		goURL+"/ok?secret=1", goURL+"/missing", goURL+"/fail", goURL+"/slow")
	if got := strings.Fields(out); !slices.Equal(got, []string{"200", "1", "404", "0", "500", "0", "200", "0"}) {
		t.Fatalf("curl keep-alive: %q, want 200 404 500 200 on one connection", out)
	}
	add("GET", goURL+"/ok", 200)
	add("GET", goURL+"/missing", 404)
	add("GET", goURL+"/fail", 500)
	add("GET", goURL+"/slow", 200)
	// A 2 MB response.
	if out := curl(t, ctx, clientNS, "-w", "%{http_code} %{size_download}", goURL+"/big"); out != "200 2097152" {
		t.Fatalf("curl /big: %q", out)
	}
	add("GET", goURL+"/big", 200)
	// A POST whose body starts like a request, sent after 100 Continue in
	// a segment of its own.
	body := "GET /smuggled HTTP/1.1\r\nHost: nobody\r\n\r\n" + strings.Repeat("x", 200)
	if out := curl(t, ctx, clientNS, "-w", "%{http_code}", "-H", "Expect: 100-continue", "--data-binary", body, goURL+"/echo"); out != "200" {
		t.Fatalf("curl POST /echo: %q", out)
	}
	add("POST", goURL+"/echo", 200)
	// Python's server: HTTP/1.0, a 200 and a 404.
	if out := curl(t, ctx, clientNS, "-w", "%{http_code} ", pyURL+"/", pyURL+"/nope"); out != "200 404 " {
		t.Fatalf("curl python: %q", out)
	}
	add("GET", pyURL+"/", 200)
	add("GET", pyURL+"/nope", 404)
	// Pipelined: two requests in one write, then two more in two writes
	// before reading.
	pipelined(t, clientNS, goSrv, [][]string{{"/pipe/1", "/pipe/2"}, {"/pipe/3"}, {"/pipe/4"}})
	for i := 1; i <= 4; i++ {
		add("GET", fmt.Sprintf("%s/pipe/%d", goURL, i), 200)
	}
	// A Go client on 100 concurrent connections, two requests each, PUT
	// so that the duration histogram's PUT series are theirs alone.
	latencies := concurrentPuts(t, ctx, clientNS, goURL, 100, 2)
	for c := range 100 {
		for r := range 2 {
			add("PUT", fmt.Sprintf("%s/conc/%d/%d", goURL, c, r), 200)
		}
	}

	clientSock, serverSock := mc.sockets[0], mc.sockets[1]
	for _, side := range []struct {
		name string
		sock string
		dir  flowpb.TrafficDirection
	}{{"client", clientSock, flowpb.TrafficDirection_EGRESS}, {"server", serverSock, flowpb.TrafficDirection_INGRESS}} {
		t.Run(side.name, func(t *testing.T) {
			var flows []*flowpb.Flow
			eventually(t, 30*time.Second, func() error {
				flows = e.observeJSON(t, side.sock, "--last", "100000", "--protocol", "http")
				return sameHTTPFlows(flows, want, side.dir)
			})
			for _, f := range flows {
				checkHTTPFlow(t, f, side.dir)
				if strings.HasSuffix(f.GetL7().GetHttp().GetUrl(), "/slow") && f.GetL7().GetType() == flowpb.L7FlowType_RESPONSE &&
					f.GetL7().GetLatencyNs() < uint64(100*time.Millisecond) {
					t.Errorf("/slow answered after %v, want at least 100ms", time.Duration(f.GetL7().GetLatencyNs()))
				}
			}
			// The filters select exactly their flows.
			for _, fc := range []struct {
				args []string
				keep func(x httpExchange) bool
				resp bool // only responses carry a status
			}{
				{[]string{"--http-status", "500"}, func(x httpExchange) bool { return x.code == 500 }, true},
				{[]string{"--http-method", "POST"}, func(x httpExchange) bool { return x.method == "POST" }, false},
				{[]string{"--http-path", "^/pipe/"}, func(x httpExchange) bool { return strings.Contains(x.url, "/pipe/") }, false},
			} {
				got := e.observeJSON(t, side.sock, append([]string{"--last", "100000"}, fc.args...)...)
				var sub []httpExchange
				for _, x := range want {
					if fc.keep(x) {
						sub = append(sub, x)
					}
				}
				if err := sameHTTPFlowsOf(got, sub, side.dir, !fc.resp); err != nil {
					t.Errorf("hubble observe %s: %v", strings.Join(fc.args, " "), err)
				}
			}
			// The compact output shows Hubble's summary.
			compact := e.hubble(t, side.sock, "observe", "--last", "100000", "--http-path", "^/slow$")
			if !strings.Contains(compact, "HTTP/1.1 GET "+goURL+"/slow") || !regexpHTTP200.MatchString(compact) {
				t.Errorf("compact output lacks the /slow summaries:\n%s", compact)
			}
			t.Logf("hubble observe --http-path ^/slow$:\n%s", compact)
		})
	}

	t.Run("prometheus", func(t *testing.T) {
		// Responses by workload and status: the server side's, labelled
		// by the request's ends.
		q := fmt.Sprintf(`sum(hubble_http_requests_total{reporter="server",status="500",destination=%q})`, podWorkload(t, mc, goSrv))
		mc.prom.waitFor(t, q, 1)
		conc := `hubble_http_request_duration_seconds_bucket{reporter="client",method="PUT"}`
		mc.prom.waitFor(t, `sum(hubble_http_requests_total{reporter="client"})`, float64(len(want)))
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		values, err := mc.prom.query(ctx, `histogram_quantile(0.95, sum by (le) (`+conc+`))`)
		if err != nil || len(values) != 1 {
			t.Fatalf("p95: %v %v", values, err)
		}
		p95 := values[0]
		measured := quantile(latencies, 0.95).Seconds()
		if lo, hi := bucketOf(measured); p95 < lo || p95 > hi {
			// Within a bucket: the estimate may sit in the bucket of the
			// measure or in a neighbour.
			if nlo, nhi := neighbours(lo, hi); p95 < nlo || p95 > nhi {
				t.Errorf("Prometheus p95 %.4fs, the client measured %.4fs (bucket %g-%g)", p95, measured, lo, hi)
			}
		}
		t.Logf("p95: Prometheus %.4fs, client %.4fs", p95, measured)
	})
}

// regexpHTTP200 matches a response summary with its latency.
var regexpHTTP200 = regexp.MustCompile(`HTTP/1\.1 200 \d{3,}ms \(GET http://[0-9.:]+/slow\)`)

// sameHTTPFlows checks that flows are exactly a REQUEST and a RESPONSE in
// direction dir for each exchange of want.
func sameHTTPFlows(flows []*flowpb.Flow, want []httpExchange, dir flowpb.TrafficDirection) error {
	return sameHTTPFlowsOf(flows, want, dir, true)
}

// sameHTTPFlowsOf is sameHTTPFlows, with requests left out unless withRequests.
func sameHTTPFlowsOf(flows []*flowpb.Flow, want []httpExchange, dir flowpb.TrafficDirection, withRequests bool) error {
	var got, exp []string
	for _, f := range flows {
		h := f.GetL7().GetHttp()
		if h == nil {
			got = append(got, "not HTTP: "+f.GetSummary())
			continue
		}
		got = append(got, fmt.Sprintf("%s %s %s %d %s", f.GetL7().GetType(), h.GetMethod(), h.GetUrl(), h.GetCode(), f.GetTrafficDirection()))
	}
	for _, x := range want {
		if withRequests {
			exp = append(exp, fmt.Sprintf("REQUEST %s %s 0 %s", x.method, x.url, dir))
		}
		exp = append(exp, fmt.Sprintf("RESPONSE %s %s %d %s", x.method, x.url, x.code, dir))
	}
	sort.Strings(got)
	sort.Strings(exp)
	if !slices.Equal(got, exp) {
		return fmt.Errorf("%d flows, want %d; missing %v; unexpected %v", len(got), len(exp), minus(exp, got), minus(got, exp))
	}
	return nil
}

// minus returns the elements of a not in b, as multisets, at most 10.
func minus(a, b []string) []string {
	left := map[string]int{}
	for _, s := range b {
		left[s]++
	}
	var out []string
	for _, s := range a {
		if left[s] > 0 {
			left[s]--
			continue
		}
		if len(out) < 10 {
			out = append(out, s)
		}
	}
	return out
}

// checkHTTPFlow checks the fields of one L7 HTTP flow.
func checkHTTPFlow(t *testing.T, f *flowpb.Flow, dir flowpb.TrafficDirection) {
	t.Helper()
	l := f.GetL7()
	resp := l.GetType() == flowpb.L7FlowType_RESPONSE
	switch {
	case f.GetType() != flowpb.FlowType_L7 || f.GetEventType().GetType() != 129:
		t.Errorf("flow %s: type %v event type %v", f.GetSummary(), f.GetType(), f.GetEventType())
	case f.GetIsReply().GetValue() != resp || f.GetVerdict() != flowpb.Verdict_FORWARDED:
		t.Errorf("flow %s: is_reply %v verdict %v", f.GetSummary(), f.GetIsReply(), f.GetVerdict())
	case f.GetL4().GetTCP().GetFlags() != nil || f.GetSource().GetPodName() == "" || f.GetDestination().GetPodName() == "":
		t.Errorf("flow %s: L4 %v source %v destination %v", f.GetSummary(), f.GetL4(), f.GetSource(), f.GetDestination())
	case resp && l.GetLatencyNs() == 0:
		t.Errorf("flow %s: no latency", f.GetSummary())
	case !resp && l.GetLatencyNs() != 0:
		t.Errorf("flow %s: a request with latency", f.GetSummary())
	}
	h := l.GetHttp()
	proto := "HTTP/1.1"
	if resp && strings.Contains(h.GetUrl(), fmt.Sprintf(":%d/", pyHTTPPort)) {
		proto = "HTTP/1.0" // Python's server answers in HTTP/1.0
	}
	if h.GetProtocol() != proto {
		t.Errorf("flow %s: protocol %q, want %q", f.GetSummary(), h.GetProtocol(), proto)
	}
	if !strings.HasPrefix(f.GetSummary(), proto+" ") {
		t.Errorf("flow summary %q does not start with %s", f.GetSummary(), proto)
	}
}

// serveGo runs a Go net/http server in h on goHTTPPort until ctx ends.
func serveGo(t testing.TB, ctx context.Context, h traffic.Host) {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	mux.HandleFunc("/fail", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "failed", http.StatusInternalServerError) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(100 * time.Millisecond)
		_, _ = io.WriteString(w, "slow")
	})
	big := make([]byte, 2<<20)
	mux.HandleFunc("/big", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(big) })
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		fmt.Fprint(w, n)
	})
	mux.HandleFunc("/pipe/", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "p") })
	mux.HandleFunc("/conc/", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "c") })
	var l net.Listener
	err := h.Netns.Do(func() error {
		var err error
		l, err = net.Listen("tcp", net.JoinHostPort(h.IPv4.String(), strconv.Itoa(goHTTPPort)))
		return err
	})
	if err != nil {
		t.Fatalf("listen in %s: %v", h.Name, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	context.AfterFunc(ctx, func() { _ = srv.Close() })
	t.Cleanup(func() { _ = srv.Close() })
}

// servePython runs python3 -m http.server in h on pyHTTPPort, serving an
// empty directory, and waits until it accepts connections.
func servePython(t *testing.T, mc *metricsCluster, h traffic.Host) {
	t.Helper()
	ns, err := mc.cluster.PodNetns(h.Name)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	root := filepath.Join(dir, "www")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal(err)
	}
	p, err := ns.Start(mc.life, cluster.ProcessSpec{
		Name: "http-server", Path: python, LogDir: dir,
		Args: []string{"-m", "http.server", strconv.Itoa(pyHTTPPort), "--bind", h.IPv4.String(), "--directory", root},
	})
	if err != nil {
		t.Fatalf("start python http.server: %v", err)
	}
	t.Cleanup(func() { _ = p.Stop() })
	addr := net.JoinHostPort(h.IPv4.String(), strconv.Itoa(pyHTTPPort))
	eventually(t, 20*time.Second, func() error {
		return ns.Do(func() error {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				c.Close()
			}
			return err
		})
	})
}

// curl runs curl in ns, quietly, the bodies discarded, and returns what
// -w writes.
func curl(t *testing.T, ctx context.Context, ns *cluster.Netns, args ...string) string {
	t.Helper()
	full := []string{"-sS", "--max-time", "20"}
	for _, a := range args {
		if strings.HasPrefix(a, "http://") {
			full = append(full, "-o", "/dev/null") // -o applies to one URL
		}
		full = append(full, a)
	}
	out, err := ns.Exec(ctx, "curl", full...)
	if err != nil {
		t.Fatalf("curl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// pipelined sends the requests of writes on one connection from ns to h's
// Go server, each group in one write, all before reading a response, and
// reads every response.
func pipelined(t *testing.T, ns *cluster.Netns, h traffic.Host, writes [][]string) {
	t.Helper()
	var conn net.Conn
	err := ns.Do(func() error {
		var err error
		conn, err = net.DialTimeout("tcp", net.JoinHostPort(h.IPv4.String(), strconv.Itoa(goHTTPPort)), 5*time.Second)
		return err
	})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	n := 0
	for _, paths := range writes {
		var b strings.Builder
		for _, p := range paths {
			fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n", p, h.IPv4, goHTTPPort)
			n++
		}
		if _, err := io.WriteString(conn, b.String()); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	r := bufio.NewReader(conn)
	for range n {
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatalf("read pipelined response: %v", err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("pipelined response %s", resp.Status)
		}
	}
}

// concurrentPuts runs conns clients at once from ns, each on a connection
// of its own making perConn PUTs to base/conc/<client>/<request>, and
// returns each request's latency as the client measured it: from the
// request written to the first byte of its response.
func concurrentPuts(t *testing.T, ctx context.Context, ns *cluster.Netns, base string, conns, perConn int) []time.Duration {
	t.Helper()
	var (
		mu        sync.Mutex
		latencies []time.Duration
		wg        sync.WaitGroup
		errs      = make(chan error, conns)
	)
	for c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// One transport per client: a connection of its own.
			tr := &http.Transport{DialContext: kube.NetnsDialer(ns.Name()), MaxIdleConnsPerHost: 1, DisableCompression: true}
			defer tr.CloseIdleConnections()
			hc := &http.Client{Transport: tr, Timeout: 20 * time.Second}
			for r := range perConn {
				req, err := http.NewRequestWithContext(ctx, http.MethodPut, fmt.Sprintf("%s/conc/%d/%d", base, c, r), nil)
				if err != nil {
					errs <- err
					return
				}
				// What the datapath times: from the request written to
				// the response's first byte, without the connect.
				var wrote, first time.Time
				req = req.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
					WroteRequest:         func(httptrace.WroteRequestInfo) { wrote = time.Now() },
					GotFirstResponseByte: func() { first = time.Now() },
				}))
				resp, err := hc.Do(req)
				if err != nil {
					errs <- err
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				d := first.Sub(wrote)
				mu.Lock()
				latencies = append(latencies, d)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent client: %v", err)
	}
	return latencies
}

// podWorkload is the workload name the agents give h's pod.
func podWorkload(t *testing.T, mc *metricsCluster, h traffic.Host) string {
	t.Helper()
	p, ok := mc.cluster.Topology.Pod(h.Name)
	if !ok {
		t.Fatalf("no pod %s", h.Name)
	}
	return p.Labels["app"] // the inventory's workload (test/demo)
}

// quantile returns the q-quantile of ds.
func quantile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(math.Ceil(q*float64(len(s))))-1]
}

// httpBuckets are hubble_http_request_duration_seconds' bucket bounds.
var httpBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// bucketOf returns the bounds of the histogram bucket v falls in.
func bucketOf(v float64) (lo, hi float64) {
	for _, b := range httpBuckets {
		if v <= b {
			return lo, b
		}
		lo = b
	}
	return lo, math.Inf(1)
}

// neighbours widens a bucket by the bucket on each side.
func neighbours(lo, hi float64) (float64, float64) {
	i := slices.Index(httpBuckets, hi)
	nlo, nhi := 0.0, math.Inf(1)
	if j := slices.Index(httpBuckets, lo); j > 0 {
		nlo = httpBuckets[j-1]
	}
	if i >= 0 && i+1 < len(httpBuckets) {
		nhi = httpBuckets[i+1]
	}
	return nlo, nhi
}
