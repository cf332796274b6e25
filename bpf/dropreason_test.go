package bpf

import (
	"bytes"
	"os"
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"
)

func TestDropReasonNames(t *testing.T) {
	n := dropReasonNames{3: "NO_SOCKET", 12: "NETFILTER_DROP", 2: "NOT_SPECIFIED"}
	for _, c := range []struct {
		code   uint32
		name   string
		hubble flowpb.DropReason
	}{
		{3, "NO_SOCKET", flowpb.DropReason_SOCKET_LOOKUP_FAILED},
		{12, "NETFILTER_DROP", flowpb.DropReason_POLICY_DENIED},
		{2, "NOT_SPECIFIED", flowpb.DropReason_DROP_REASON_UNKNOWN},
		{0x20001, "reason 131073", flowpb.DropReason_DROP_REASON_UNKNOWN},
	} {
		if got := n.name(c.code); got != c.name {
			t.Errorf("name(%d) = %q, want %q", c.code, got, c.name)
		}
		if got := n.hubble(c.code); got != c.hubble {
			t.Errorf("hubble(%d) = %v, want %v", c.code, got, c.hubble)
		}
	}
}

// TestKernelDropReasonsExist guards the mapping against typos: every name
// must be in enum skb_drop_reason of the committed vmlinux.h (Linux 6.18),
// and map to a real Hubble reason.
func TestKernelDropReasonsExist(t *testing.T) {
	header, err := os.ReadFile("c/include/vmlinux.h")
	if err != nil {
		t.Fatal(err)
	}
	for name, reason := range kernelDropReasons {
		if !bytes.Contains(header, []byte("\t"+dropReasonPrefix+name+" = ")) {
			t.Errorf("%s is not in enum skb_drop_reason", name)
		}
		if reason == flowpb.DropReason_DROP_REASON_UNKNOWN {
			t.Errorf("%s maps to DROP_REASON_UNKNOWN; leave it out instead", name)
		}
	}
}
