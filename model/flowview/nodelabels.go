package flowview

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// nodeLabelVersions bounds the label history a node keeps: records older
// than the oldest version kept show that version's labels.
const nodeLabelVersions = 8

// nodeLabels is a node's label history. Cilium's Hubble sets a flow's
// node_labels when it decodes the event, so a flow keeps the labels its
// node had then; Fovea builds flows when they are read, so it keeps the
// recent versions with the time each took effect and picks by record
// time. Versions are replaced whole, never modified: readers load them
// with one atomic read and may share their slices.
type nodeLabels struct {
	mu       sync.Mutex // serialises writers
	versions atomic.Pointer[[]labelVersion]
}

type labelVersion struct {
	since  int64 // Unix ns
	labels []string
}

func (l *nodeLabels) set(labels []string, since int64) {
	list := slices.Clone(labels)
	slices.Sort(list)
	l.mu.Lock()
	defer l.mu.Unlock()
	var old []labelVersion
	if p := l.versions.Load(); p != nil {
		old = *p
	}
	old = old[max(0, len(old)-nodeLabelVersions+1):]
	versions := append(slices.Clone(old), labelVersion{since: since, labels: list})
	l.versions.Store(&versions)
}

func (l *nodeLabels) at(t int64) []string {
	versions := *l.versions.Load()
	for i := len(versions) - 1; i > 0; i-- {
		if versions[i].since <= t {
			return versions[i].labels
		}
	}
	return versions[0].labels
}

// LabelsAt returns the labels the node had at t (Unix ns), the time of a
// record, as Hubble shows them in node_labels: "key=value", sorted; the
// same slice for every t of one version, shared: do not modify it.
func (n *Node) LabelsAt(t int64) []string { return n.labels.at(t) }

// SetLabels replaces the node's labels ("key=value") from now on, for the
// records written from now on. It keeps a sorted copy of labels.
func (n *Node) SetLabels(labels []string) { n.labels.set(labels, time.Now().UnixNano()) }
