//go:build linux

package demo

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/foveanet/fovea/test/cluster"
)

// Ports agents and the relay listen on inside node namespaces, as in Hubble.
const (
	AgentPort = 4244
	RelayPort = 4245
)

// RelayPeers is the --peers value naming every node's agent at its
// underlay address, by the name its flows carry (agents run in the default
// cluster).
func RelayPeers(c *cluster.Cluster) string {
	peers := make([]string, len(c.Topology.Nodes))
	for i, n := range c.Topology.Nodes {
		peers[i] = "default/" + n.Name + "=" + net.JoinHostPort(n.IPv4.String(), fmt.Sprint(AgentPort))
	}
	return strings.Join(peers, ",")
}

// StartRelay runs `fovea relay` (the binary at fovea) in the first node's
// namespace, connected in plaintext to every node's agent (started with
// ListenTCP) and serving plaintext on RelayPort; args come last, so they can
// override those settings. name names its unix socket (<name>.sock in the
// node's state directory) and logs. It waits until the relay serves the
// socket, which it returns. The cluster stops the relay when it is closed.
func StartRelay(ctx context.Context, c *cluster.Cluster, fovea, name string, args ...string) (string, *cluster.Process, error) {
	node := c.Topology.Nodes[0].Name
	sock := filepath.Join(c.NodeStateDir(node), name+".sock")
	all := append([]string{"relay", "--socket-path", sock,
		"--listen-address", fmt.Sprintf(":%d", RelayPort), "--insecure",
		"--peers", RelayPeers(c), "--peer-insecure"}, args...)
	p, err := c.StartProcess(ctx, node, cluster.ProcessSpec{Name: name, Path: fovea, Args: all, StopTimeout: 10 * time.Second})
	if err != nil {
		return "", nil, fmt.Errorf("start relay on %s: %w", node, err)
	}
	if err := waitForSocket(ctx, sock, p, 30*time.Second); err != nil {
		return "", nil, fmt.Errorf("relay on %s (logs in %s): %w", node, c.NodeStateDir(node), err)
	}
	return sock, p, nil
}
