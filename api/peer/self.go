package peer

import (
	"context"
	"net"
	"net/netip"
	"strings"

	peerpb "github.com/cilium/cilium/api/v1/peer"

	"github.com/foveanet/fovea/api/server"
	"github.com/foveanet/fovea/model/flowview"
)

// defaultCluster is the cluster Hubble assumes for TLS names when none is
// configured.
const defaultCluster = "default"

// Static is a NodeSet that never changes.
type Static []*peerpb.ChangeNotification

// Subscribe implements NodeSet.
func (s Static) Subscribe(context.Context) ([]*peerpb.ChangeNotification, <-chan *peerpb.ChangeNotification) {
	return s, nil
}

// SelfOption configures NewSelf.
type SelfOption func(*selfConfig)

type selfConfig struct{ ip netip.Addr }

// WithNodeIP sets the address peers reach this node at; it defaults to the
// host of the TCP listen address, else the node's first global unicast
// address.
func WithNodeIP(ip netip.Addr) SelfOption { return func(c *selfConfig) { c.ip = ip } }

// NewSelf returns a Server reporting only this agent; see NewSelfNodes.
func NewSelf(node *flowview.Node, cfg server.Config, opts ...SelfOption) *Server {
	return New(NewSelfNodes(node, cfg, opts...))
}

// NewSelfNodes returns the node set of an agent serving only itself,
// reachable on the TCP address cfg listens on. An agent serving only its
// unix socket has no peer address, and is reported without one.
func NewSelfNodes(node *flowview.Node, cfg server.Config, opts ...SelfOption) Static {
	var c selfConfig
	for _, opt := range opts {
		opt(&c)
	}
	cn := &peerpb.ChangeNotification{
		Name: node.AbsoluteName(),
		Type: peerpb.ChangeNotificationType_PEER_ADDED,
	}
	if host, port, err := net.SplitHostPort(cfg.ListenAddress); err == nil && cfg.ListenAddress != "" {
		ip := c.ip
		if !ip.IsValid() {
			ip = hostIP(host)
		}
		if ip.IsValid() {
			cn.Address = net.JoinHostPort(ip.String(), port)
		}
	}
	if cfg.TLSCertFile != "" {
		cn.Tls = &peerpb.TLS{ServerName: TLSServerName(node.Name, node.Cluster)}
	}
	return Static{cn}
}

// TLSServerName is the name a node's Hubble certificate is issued for:
// dots in the node name become dashes so every node sits at the same DNS
// level.
func TLSServerName(node, cluster string) string {
	if node == "" {
		return ""
	}
	if cluster == "" {
		cluster = defaultCluster
	}
	return strings.ReplaceAll(node, ".", "-") + "." + cluster + ".hubble-grpc.cilium.io"
}

// hostIP returns host as an address when it names one, else the node's
// first global unicast address, IPv4 first.
func hostIP(host string) netip.Addr {
	if ip, err := netip.ParseAddr(host); err == nil && !ip.IsUnspecified() {
		return ip.Unmap()
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return netip.Addr{}
	}
	var v6 netip.Addr
	for _, a := range addrs {
		pfx, err := netip.ParsePrefix(a.String())
		if err != nil || !pfx.Addr().IsGlobalUnicast() {
			continue
		}
		ip := pfx.Addr().Unmap()
		if ip.Is4() {
			return ip
		}
		if !v6.IsValid() {
			v6 = ip
		}
	}
	return v6
}
