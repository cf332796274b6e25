//go:build linux

package soak

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	observerpb "github.com/cilium/cilium/api/v1/observer"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/foveanet/fovea/agent/inventory"
	"github.com/foveanet/fovea/test/demo"
)

// agentOpts is how startAgent runs a replay agent.
type agentOpts struct {
	// name is the node's (default soak-node).
	name         string
	rate         float64
	pods         int
	ringCapacity int
	// dnsEvery makes one record in dnsEvery a DNS response (0: none).
	dnsEvery int
	// tcp serves the Hubble API on a loopback TCP port too, with tls (the
	// --tls-* flags), or in plaintext if none.
	tcp bool
	tls []string
	// tcpAddr is the TCP address to serve on, instead of a free one: an
	// agent restarted where it was.
	tcpAddr string
	// args are more agent flags.
	args []string
	env  []string
}

// agentProc is a running replay agent, or relay.
type agentProc struct {
	cmd     *exec.Cmd
	socket  string
	tcp     string // empty: no TCP listener
	metrics string
	logPath string
	exited  chan error
	// inventory is an agent's inventory file, which tests may rewrite.
	inventory string
	killed    bool
}

// kill ends the child with SIGKILL, as the OOM killer or a node crash
// would, and waits until it is gone.
func (a *agentProc) kill(t *testing.T) {
	t.Helper()
	if err := a.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-a.exited
	a.killed = true
}

// startAgent runs a replay agent until the test ends and waits until it
// serves.
func startAgent(t *testing.T, o agentOpts) *agentProc {
	t.Helper()
	dir := t.TempDir()
	if o.pods == 0 {
		o.pods = 50
	}
	if o.ringCapacity == 0 {
		o.ringCapacity = 65535
	}
	a := newProc(t, dir)
	a.inventory = filepath.Join(dir, "inventory.yaml")
	if err := demo.WriteInventory(a.inventory, podInventory(o.pods)); err != nil {
		t.Fatal(err)
	}
	if o.name == "" {
		o.name = "soak-node"
	}
	args := []string{
		"--node-name=" + o.name,
		"--ring-capacity=" + strconv.Itoa(o.ringCapacity), "--inventory=" + a.inventory,
		"--replay-rate=" + strconv.FormatFloat(o.rate, 'f', -1, 64), "--replay-pods=" + strconv.Itoa(o.pods),
		"--replay-dns-every=" + strconv.Itoa(o.dnsEvery),
	}
	if o.tcp {
		a.tcp = cmp.Or(o.tcpAddr, freeAddr(t))
		args = append(args, "--listen-address="+a.tcp)
		if o.tls == nil {
			args = append(args, "--insecure")
		}
		args = append(args, o.tls...)
	} else {
		args = append(args, "--listen-address=")
	}
	a.start(t, "agent", append(args, o.args...), o.env)
	return a
}

// newProc is a child to run in dir, serving on a unix socket and /metrics.
func newProc(t *testing.T, dir string) *agentProc {
	return &agentProc{socket: filepath.Join(dir, "hubble.sock"), metrics: freeAddr(t), logPath: filepath.Join(dir, "child.log"), exited: make(chan error, 1)}
}

// start runs this test binary as a child of kind ("agent" or "relay")
// with args until the test ends, and waits until it serves.
func (a *agentProc) start(t *testing.T, kind string, args, env []string) {
	t.Helper()
	logFile, err := os.Create(a.logPath)
	if err != nil {
		t.Fatal(err)
	}
	args = append([]string{"--socket-path=" + a.socket, "--metrics-address=" + a.metrics}, args...)
	a.cmd = exec.Command(os.Args[0], args...)
	a.cmd.Env = append(append(os.Environ(), childEnv+"="+kind), env...)
	a.cmd.Stdout, a.cmd.Stderr = logFile, logFile
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { a.exited <- a.cmd.Wait(); logFile.Close() }()
	t.Cleanup(func() { a.stop(t) })
	a.waitServing(t)
}

// stop ends the agent with SIGTERM, as Kubernetes does, and fails the test
// if it does not exit cleanly.
func (a *agentProc) stop(t *testing.T) {
	t.Helper()
	if a.killed {
		return
	}
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-a.exited:
		if err != nil {
			t.Errorf("child exited: %v\n%s", err, a.log())
		}
	case <-time.After(15 * time.Second):
		_ = a.cmd.Process.Kill()
		<-a.exited
		t.Errorf("child did not stop within 15s of SIGTERM\n%s", a.log())
	}
}

func (a *agentProc) log() string {
	b, _ := os.ReadFile(a.logPath)
	return string(b)
}

// waitServing waits until the agent answers ServerStatus on its socket.
func (a *agentProc) waitServing(t *testing.T) {
	t.Helper()
	conn := a.dial(t)
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := observerpb.NewObserverClient(conn).ServerStatus(ctx, &observerpb.ServerStatusRequest{})
		cancel()
		if err == nil {
			return
		}
		select {
		case err := <-a.exited:
			t.Fatalf("child exited before serving: %v\n%s", err, a.log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("child not serving: %v\n%s", err, a.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// dial connects to the agent's unix socket until the test ends.
func (a *agentProc) dial(t *testing.T) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient("unix://"+a.socket, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// procStats are the agent process's CPU time and memory.
type procStats struct {
	at         time.Time
	cpuSeconds float64
	rssBytes   uint64
	hwmBytes   uint64 // peak RSS
	// anonBytes is the anonymous part of RSS: the memory the process
	// allocated, which GOMEMLIMIT governs, without the pages of its binary
	// the kernel maps from the file (shared, and dropped under pressure).
	anonBytes uint64
}

// userHZ is the unit of /proc/PID/stat's CPU times: fixed at 100 in the
// kernel's ABI, whatever its internal tick.
const userHZ = 100

func (a *agentProc) stats(t *testing.T) procStats {
	t.Helper()
	pid := a.cmd.Process.Pid
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name, which may hold spaces: state is 3,
	// utime 14, stime 15.
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+2:]))
	utime, _ := strconv.ParseUint(fields[11], 10, 64)
	stime, _ := strconv.ParseUint(fields[12], 10, 64)
	s := procStats{at: time.Now(), cpuSeconds: float64(utime+stime) / userHZ}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		k, v, _ := strings.Cut(line, ":")
		kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch {
		case err != nil:
		case k == "VmRSS":
			s.rssBytes = kb << 10
		case k == "VmHWM":
			s.hwmBytes = kb << 10
		case k == "RssAnon":
			s.anonBytes = kb << 10
		}
	}
	return s
}

// cores is the CPU the agent used between two samples, in cores.
func cores(from, to procStats) float64 {
	return (to.cpuSeconds - from.cpuSeconds) / to.at.Sub(from.at).Seconds()
}

// scrape reads the agent's /metrics: each series' value by name, summed
// over its labels.
func (a *agentProc) scrape(t *testing.T) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + a.metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]float64)
	for name, f := range families {
		for _, m := range f.GetMetric() {
			switch {
			case m.Counter != nil:
				out[name] += m.Counter.GetValue()
			case m.Gauge != nil:
				out[name] += m.Gauge.GetValue()
			}
		}
	}
	return out
}

// podInventory labels the replay source's pods: namespace soak, app by
// pod number mod 5.
func podInventory(n int) *inventory.File { return churnedInventory(n, -1) }

// churnedInventory is the inventory of round of a churn: every pod renamed
// on its address (round -1: the plain names), and a fifth of the addresses,
// a different fifth each round, without a pod, as if deleted.
func churnedInventory(n, round int) *inventory.File {
	f := &inventory.File{}
	for i, addr := range podAddrs(n) {
		if round >= 0 && i%5 == round%5 {
			continue
		}
		app, name := fmt.Sprintf("app-%d", i%5), podName(i)
		if round >= 0 {
			name = fmt.Sprintf("%s-r%d", name, round)
		}
		f.Pods = append(f.Pods, inventory.Pod{
			Namespace: "soak", Name: name, Labels: map[string]string{"app": app, "round": fmt.Sprint(round)},
			IPs: []string{addr.String()}, Node: "soak-node", ServiceAccount: "default",
			Workload: &inventory.Workload{Kind: "Deployment", Name: app},
		})
	}
	return f
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
