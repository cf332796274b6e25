//go:build linux

package bpf

import (
	"fmt"
	"strings"

	"github.com/cilium/ebpf/btf"
)

// loadDropReasonNames reads enum skb_drop_reason from the running kernel's
// BTF.
func loadDropReasonNames() (dropReasonNames, error) {
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		return nil, fmt.Errorf("load kernel BTF: %w", err)
	}
	var enum *btf.Enum
	if err := spec.TypeByName("skb_drop_reason", &enum); err != nil {
		return nil, fmt.Errorf("find enum skb_drop_reason in kernel BTF: %w", err)
	}
	names := make(dropReasonNames, len(enum.Values))
	for _, v := range enum.Values {
		names[uint32(v.Value)] = strings.TrimPrefix(v.Name, dropReasonPrefix)
	}
	return names, nil
}
