//go:build linux

package bpf

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/cilium/ebpf"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// netnsDirs hold the bind mounts that keep pod network namespaces alive:
// where container runtimes (CNI) and `ip netns` pin them.
var netnsDirs = []string{"/run/netns", "/var/run/netns"}

// peerNetnsInode finds the inode of the namespace holding a veth's peer.
// It returns false when none does (the peer is in our namespace, or not
// pinned).
func peerNetnsInode(nsid int) (uint32, bool, error) {
	_, ino, ok, err := pinnedNetns(nsid)
	return ino, ok, err
}

// pinnedNetns finds the pinned namespace whose id relative to ours is nsid:
// a link names its peer's namespace only by that id, so each pinned
// namespace is asked for its id until one matches. It returns the pin's
// path and the namespace's inode, or false when none matches.
func pinnedNetns(nsid int) (string, uint32, bool, error) {
	if nsid < 0 {
		return "", 0, false, nil
	}
	seen := make(map[uint64]bool)
	for _, dir := range netnsDirs {
		entries, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", 0, false, fmt.Errorf("list %s: %w", dir, err)
		}
		for _, e := range entries {
			path := filepath.Join(dir, e.Name())
			if ino, ok := netnsWithID(path, nsid, seen); ok {
				return path, ino, true, nil
			}
		}
	}
	return "", 0, false, nil
}

// netnsWithID returns the inode of the namespace pinned at path if its id
// is nsid. Namespaces already in seen (by inode) are skipped.
func netnsWithID(path string, nsid int, seen map[uint64]bool) (uint32, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false // removed meanwhile, or not a namespace
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil || seen[st.Ino] {
		return 0, false
	}
	seen[st.Ino] = true
	id, err := netlink.GetNetNsIdByFd(int(f.Fd()))
	if err != nil || id != nsid {
		return 0, false
	}
	return uint32(st.Ino), true
}

// watchPodNetns makes the trace programs report the namespace behind an
// attached veth, and returns the inode to pass to unwatchPodNetns, or 0.
// Called with s.mu held.
func (s *Source) watchPodNetns(name string, nsid int) uint32 {
	if s.trace.NetnsWatch == nil {
		return 0
	}
	ino, ok, err := peerNetnsInode(nsid)
	switch {
	case err != nil:
		s.log.Warn("finding a veth peer's namespace failed; its drops go unreported", "iface", name, "err", err)
		return 0
	case !ok && nsid >= 0:
		s.log.Info("veth peer's namespace is not pinned in /run/netns; its drops go unreported", "iface", name, "nsid", nsid)
		return 0
	case !ok:
		return 0
	}
	if s.podNetns[ino] == 0 {
		if err := s.trace.NetnsWatch.Put(ino, uint8(1)); err != nil {
			s.log.Warn("watching a pod namespace failed; its drops go unreported", "iface", name, "netns", ino, "err", err)
			return 0
		}
	}
	s.podNetns[ino]++
	return ino
}

// unwatchPodNetns undoes watchPodNetns once no attached veth leads to the
// namespace. Called with s.mu held.
func (s *Source) unwatchPodNetns(ino uint32) {
	if ino == 0 {
		return
	}
	if s.podNetns[ino]--; s.podNetns[ino] > 0 {
		return
	}
	delete(s.podNetns, ino)
	if err := s.trace.NetnsWatch.Delete(ino); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
		s.log.Warn("unwatching a pod namespace failed", "netns", ino, "err", err)
	}
}
