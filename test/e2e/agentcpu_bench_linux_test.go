//go:build linux

package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	observerpb "github.com/cilium/cilium/api/v1/observer"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/foveanet/fovea/test/cluster"
	"github.com/foveanet/fovea/test/demo"
	"github.com/foveanet/fovea/test/traffic"
)

// benchEventsPerSecond is the load issue #3 sets the agent's CPU target at.
const benchEventsPerSecond = 10000

// BenchmarkAgentCPU runs a real agent reporting every packet
// (--aggregation=none) while one pod sends UDP datagrams to another, paced
// so the agent sees benchEventsPerSecond events, and reports the agent
// process's own CPU in cores (target ≤ 0.1) and the event rate it saw.
func BenchmarkAgentCPU(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root: builds network namespaces and loads eBPF programs")
	}
	fovea := os.Getenv("FOVEA_BIN")
	if fovea == "" {
		b.Fatal("FOVEA_BIN is not set: run with `make build` and FOVEA_BIN=.bin/fovea")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.DiscardHandler)
	const prefix = "foveabench-"
	if err := cluster.Cleanup(ctx, prefix, log); err != nil {
		b.Fatal(err)
	}
	c, err := cluster.Build(ctx, cluster.Config{Prefix: prefix, Nodes: 1, PodsPerNode: 2, StateDir: b.TempDir(), Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close(context.Background())
	b.Setenv("FOVEA_AGGREGATION", "none") // the agent inherits it: every packet is an event
	sock, agent, err := demo.StartAgent(ctx, c, "node1", fovea, 65535)
	if err != nil {
		b.Fatal(err)
	}
	if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", agent.Pid)); err != nil || strings.TrimSpace(string(comm)) != "fovea" {
		b.Fatalf("pid %d is %q (%v), not the agent: its CPU would not be the agent's", agent.Pid, comm, err)
	}
	hosts := c.Hosts()
	if _, err := traffic.Serve(ctx, hosts[1], log); err != nil {
		b.Fatal(err)
	}
	conn := dialUDP(b, hosts[0], hosts[1].IPv4)
	go drain(conn)
	status := statusClient(b, sock)

	for b.Loop() {
		loadAgent(b, conn, status, agent.Pid)
	}
}

// loadAgent sends datagrams through conn for ten seconds, paced so the agent
// sees benchEventsPerSecond events, and reports the agent process's CPU in
// cores and the event rate it saw (status reads its seen_flows).
func loadAgent(b *testing.B, conn *net.UDPConn, status func() uint64, pid int) {
	// A datagram and its echo cross both pods' veths, each seen at two
	// attachment points: four events per datagram.
	const datagramsPerSecond = benchEventsPerSecond / 4
	seen0, cpu0, t0 := status(), processCPU(b, pid), time.Now()
	// Sleeps overshoot, so each millisecond catches up with the schedule.
	// Ten seconds: CPU time is counted in 10 ms ticks.
	for sent := 0; time.Since(t0) < 10*time.Second; time.Sleep(time.Millisecond) {
		for due := int(time.Since(t0).Seconds() * datagramsPerSecond); sent < due; sent++ {
			if _, err := conn.Write([]byte("ping\n")); err != nil {
				b.Fatal(err)
			}
		}
	}
	time.Sleep(200 * time.Millisecond) // the reader's batch deadline
	wall := time.Since(t0)
	events := float64(status() - seen0)
	b.ReportMetric((processCPU(b, pid)-cpu0).Seconds()/wall.Seconds(), "agent-cores")
	b.ReportMetric(events/wall.Seconds(), "events/s")
}

// dialUDP opens a UDP socket in src's namespace connected to dst's echo port.
func dialUDP(b testing.TB, src traffic.Host, dst netip.Addr) *net.UDPConn {
	var conn *net.UDPConn
	err := src.Netns.Do(func() error {
		var err error
		conn, err = net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(dst, traffic.UDPPort)))
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	return conn
}

func drain(conn *net.UDPConn) {
	buf := make([]byte, 1500)
	for {
		if _, err := conn.Read(buf); err != nil {
			return
		}
	}
}

// statusClient returns a function reading the agent's seen_flows.
func statusClient(b *testing.B, sock string) func() uint64 {
	cc, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cc.Close() })
	client := observerpb.NewObserverClient(cc)
	return func() uint64 {
		st, err := client.ServerStatus(context.Background(), &observerpb.ServerStatusRequest{})
		if err != nil {
			b.Fatal(err)
		}
		return st.GetSeenFlows()
	}
}

// processCPU is the user and system CPU time pid has used, from
// /proc/<pid>/stat (fields 14 and 15, in USER_HZ = 100 ticks a second).
func processCPU(b testing.TB, pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// The command name (field 2) may hold spaces; fields resume after ')'.
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		b.Fatalf("parse /proc/%d/stat: %v %v", pid, err1, err2)
	}
	return time.Duration(utime+stime) * (time.Second / 100)
}
