package pcapng

import (
	"strings"
	"time"

	"github.com/foveanet/fovea/api/capture/capturepb"
)

// The interface block's comment holds, as "key=value" lines, what Read
// needs to rebuild the Interface: the block's name and description are for
// people.
const (
	keyNode      = "node"
	keyNamespace = "namespace"
	keyPod       = "pod"
	keyDevice    = "device"
)

func comment(node string, in *capturepb.Interface) string {
	var b strings.Builder
	for _, kv := range [][2]string{
		{keyNode, node}, {keyNamespace, in.GetNamespace()}, {keyPod, in.GetPod()}, {keyDevice, in.GetDevice()},
	} {
		b.WriteString(kv[0] + "=" + kv[1] + "\n")
	}
	return b.String()
}

// parseComment reads comment's "key=value" lines.
func parseComment(comment string) map[string]string {
	out := map[string]string{}
	for line := range strings.Lines(comment) {
		if k, v, ok := strings.Cut(strings.TrimRight(line, "\n"), "="); ok {
			out[k] = v
		}
	}
	return out
}

func unixNano(ns int64) time.Time { return time.Unix(0, ns) }
