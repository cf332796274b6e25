//go:build linux

package bpf

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// tc filters outlive the process that added them, so ours carry a name
// prefix and a fixed priority and handle by which a later run finds and
// removes any a killed agent left behind.
const (
	tcNamePrefix = "fovea-capture-"
	tcPriority   = 0xf0ea
	tcHandle     = 0xf0ea
)

func tcParents() [2]uint32 { return [2]uint32{netlink.HANDLE_MIN_INGRESS, netlink.HANDLE_MIN_EGRESS} }

// attachTC adds a clsact qdisc if the interface has none and a
// direct-action bpf filter per direction.
func attachTC(index int, ingress, egress *ebpf.Program) (func() error, error) {
	qdisc := &netlink.GenericQdisc{
		QdiscAttrs: netlink.QdiscAttrs{
			LinkIndex: index,
			Handle:    netlink.MakeHandle(0xffff, 0),
			Parent:    netlink.HANDLE_CLSACT,
		},
		QdiscType: "clsact",
	}
	if err := netlink.QdiscAdd(qdisc); err != nil && !errors.Is(err, unix.EEXIST) {
		return nil, fmt.Errorf("add clsact qdisc: %w", err)
	}
	var added []*netlink.BpfFilter
	remove := func() error {
		var errs []error
		for _, f := range added {
			if err := netlink.FilterDel(f); err != nil {
				errs = append(errs, fmt.Errorf("delete tc filter %s: %w", f.Name, err))
			}
		}
		return errors.Join(errs...)
	}
	for i, prog := range []*ebpf.Program{ingress, egress} {
		dir := Direction(i)
		f := &netlink.BpfFilter{
			FilterAttrs: netlink.FilterAttrs{
				LinkIndex: index,
				Parent:    tcParents()[i],
				Handle:    tcHandle,
				Priority:  tcPriority,
				Protocol:  unix.ETH_P_ALL,
			},
			Fd:           prog.FD(),
			Name:         tcNamePrefix + dir.String(),
			DirectAction: true,
		}
		if err := netlink.FilterReplace(f); err != nil {
			return nil, errors.Join(fmt.Errorf("add tc %s filter: %w", dir, err), remove())
		}
		added = append(added, f)
	}
	return remove, nil
}

// removeStaleFilters deletes tc filters a previous run left on any
// interface of the current network namespace.
func removeStaleFilters(log *slog.Logger) error {
	links, err := netlink.LinkList()
	if err != nil {
		return fmt.Errorf("list links: %w", err)
	}
	var errs []error
	for _, l := range links {
		for _, parent := range tcParents() {
			filters, err := netlink.FilterList(l, parent)
			if err != nil {
				// Interfaces without a clsact qdisc have nothing to list.
				continue
			}
			for _, f := range filters {
				bf, ok := f.(*netlink.BpfFilter)
				if !ok || !strings.HasPrefix(bf.Name, tcNamePrefix) {
					continue
				}
				if err := netlink.FilterDel(bf); err != nil {
					errs = append(errs, fmt.Errorf("delete stale tc filter on %s: %w", l.Attrs().Name, err))
					continue
				}
				log.Info("removed stale tc filter", "iface", l.Attrs().Name, "filter", bf.Name)
			}
		}
	}
	return errors.Join(errs...)
}
