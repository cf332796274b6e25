//go:build linux

package e2e

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/test/demo"
	"github.com/foveanet/fovea/test/traffic"
)

// TestInventoryEnrichment checks with the real hubble CLI that agents given
// an inventory label both ends of a flow, local and remote pods alike, and
// that hubble's pod, namespace, label, workload and identity filters find
// them.
func TestInventoryEnrichment(t *testing.T) {
	e := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Cross-node: the destination is a remote pod for the source's agent
	// and the source is one for the destination's.
	src, srcSock := e.pod(0)
	dst, dstSock := e.pod(2)
	srcPod, _ := e.cluster.Topology.Pod(src.Name)
	dstPod, _ := e.cluster.Topology.Pod(dst.Name)
	c, err := traffic.TCPShort(ctx, src, dst, traffic.IPv4)
	if err != nil {
		t.Fatal(err)
	}
	// hubble refuses --ip with --pod, so the connection is picked out by
	// its ephemeral port (and connFlows).
	conn := []string{"--port", strconv.Itoa(int(c.Src.Port))}

	for _, sock := range uniq(srcSock, dstSock) {
		var req *flowpb.Flow
		eventually(t, 10*time.Second, func() error {
			requests, _ := connFlows(c, e.observeJSON(t, sock, append([]string{"--last", "100000"}, conn...)...))
			if len(requests) == 0 {
				return errors.New("no request flows")
			}
			req = requests[0]
			return nil
		})
		checkPodEndpoint(t, sock, req.GetSource(), srcPod)
		checkPodEndpoint(t, sock, req.GetDestination(), dstPod)
		e.checkFilters(t, sock, c, podFilters(srcPod, dstPod, req.GetSource().GetIdentity()))

		out := e.hubble(t, sock, "list", "namespaces")
		if !strings.Contains(out, srcPod.Namespace) {
			t.Errorf("%s: hubble list namespaces = %q, want %s", sock, out, srcPod.Namespace)
		}
	}
}

// TestInventoryIPReuse gives a pod's address to a new pod in the inventory
// and checks that flows after the change name the new pod while flows
// before it keep the old one.
func TestInventoryIPReuse(t *testing.T) {
	e := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	src, sock := e.pod(1)
	dst, _ := e.pod(0)
	oldPod, _ := e.cluster.Topology.Pod(src.Name)

	before, err := traffic.TCPShort(ctx, src, dst, traffic.IPv4)
	if err != nil {
		t.Fatal(err)
	}

	srcOf := func(c traffic.Conn) (string, error) {
		requests, _ := connFlows(c, e.observeJSON(t, sock, "--last", "100000", "--ip", c.Src.IP.String(),
			"--port", strconv.Itoa(int(c.Src.Port))))
		if len(requests) == 0 {
			return "", fmt.Errorf("no request flows of %v", c)
		}
		return requests[0].GetSource().GetPodName(), nil
	}
	// Records are labelled when the agent reads them: wait until the
	// connection before the change is recorded before changing the file.
	eventually(t, 10*time.Second, func() error {
		name, err := srcOf(before)
		if err == nil && name != oldPod.Name {
			return fmt.Errorf("flow before the change names %q, want %q", name, oldPod.Name)
		}
		return err
	})

	inv := demo.Inventory(e.cluster.Topology)
	const newName = "reused-7f9c4d-abcde"
	for i := range inv.Pods {
		if inv.Pods[i].Namespace == oldPod.Namespace && inv.Pods[i].Name == oldPod.Name {
			inv.Pods[i].Name = newName
			inv.Pods[i].Labels = map[string]string{"app": "reused"}
			inv.Pods[i].Workload.Name = "reused"
		}
	}
	if err := demo.WriteInventory(e.inventory, inv); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := demo.WriteInventory(e.inventory, demo.Inventory(e.cluster.Topology)); err != nil {
			t.Errorf("restore inventory: %v", err)
			return
		}
		// The agents are shared, and each polls the file on its own:
		// leave both naming the pod again, as the next test expects.
		other, _ := e.pod(2)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		eventually(t, 15*time.Second, func() error {
			c, err := traffic.TCPShort(ctx, src, other, traffic.IPv4)
			if err != nil {
				return err
			}
			for _, sock := range e.sockets {
				requests, _ := connFlows(c, e.observeJSON(t, sock, "--last", "100000", "--port", strconv.Itoa(int(c.Src.Port))))
				if len(requests) == 0 || requests[0].GetSource().GetPodName() != oldPod.Name {
					return fmt.Errorf("%s: flow after restoring the inventory: %s, want source %s", sock, describe(requests), oldPod.Name)
				}
			}
			return nil
		})
	})

	// The agent polls the file; connect until a new connection shows the
	// new pod.
	eventually(t, 15*time.Second, func() error {
		after, err := traffic.TCPShort(ctx, src, dst, traffic.IPv4)
		if err != nil {
			return err
		}
		var name string
		check := func() error {
			var err error
			name, err = srcOf(after)
			return err
		}
		for range 25 {
			if err = check(); err == nil {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if err != nil {
			return err
		}
		if name != newName {
			return fmt.Errorf("flow after the change names %q, want %q", name, newName)
		}
		return nil
	})
	if name, err := srcOf(before); err != nil || name != oldPod.Name {
		t.Errorf("flow before the change names %q (%v), want %q", name, err, oldPod.Name)
	}
	if out := e.hubble(t, sock, "observe", "--last", "100000", "--pod", oldPod.Namespace+"/"+newName); !strings.Contains(out, newName) {
		t.Errorf("hubble observe --pod %s/%s shows nothing", oldPod.Namespace, newName)
	}
}
