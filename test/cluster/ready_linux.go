//go:build linux

package cluster

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// readyTimeout bounds the wait for links to become usable after a build.
const readyTimeout = 10 * time.Second

// waitLinksUp waits until every link in every namespace is
// operationally up with its queueing discipline attached. A veth whose peer
// came up after it gets both only when the kernel's link watcher runs,
// asynchronously; until then it silently drops what it is given, so the
// first connections after a build would lose packets.
func (c *Cluster) waitLinksUp(ctx context.Context, namespaces []string) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	pending := namespaces
	for {
		var still []string
		var last string
		for _, ns := range pending {
			out, err := ipCommand(ctx, "-n", ns, "-o", "link", "show")
			if err != nil {
				return err
			}
			if link := firstLinkNotReady(out); link != "" {
				still = append(still, ns)
				last = ns + "/" + link
			}
		}
		if len(still) == 0 {
			return nil
		}
		pending = still
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for link %s to come up: %w", last, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// firstLinkNotReady returns the first link in `ip -o link show` output that
// is not up with a real qdisc, or "" if all are.
func firstLinkNotReady(out string) string {
	for line := range strings.Lines(out) {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimSuffix(fields[1], ":"), "@")
		// The bridge device is only the gateway's host interface; ports
		// forward without it, and its carrier settles up to a second
		// later.
		if name == "lo" || name == BridgeInterface {
			continue
		}
		// A device that reports no operational state (vxlan) is UNKNOWN
		// when up.
		up := strings.Contains(line, " state UP ") || strings.Contains(line, " state UNKNOWN ")
		if !up || strings.Contains(line, " qdisc noop ") {
			return name
		}
	}
	return ""
}
