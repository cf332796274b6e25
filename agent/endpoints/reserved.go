package endpoints

import (
	"strings"

	flowpb "github.com/cilium/cilium/api/v1/flow"

	"github.com/foveanet/fovea/model/intern"
)

// Cilium's reserved identities (pkg/identity), which Hubble clients print
// as (host), (world), … and Hubble UI groups by.
const (
	IdentityHost          = 1
	IdentityWorld         = 2
	IdentityRemoteNode    = 6
	IdentityKubeAPIServer = 7
)

// Cilium's reserved labels, in the "reserved:" source.
const (
	LabelHost          = "reserved:host"
	LabelWorld         = "reserved:world"
	LabelRemoteNode    = "reserved:remote-node"
	LabelKubeAPIServer = "reserved:kube-apiserver"
)

// InternReserved interns the endpoint of a reserved identity with its
// labels, sorted as Cilium sorts them. The key is the labels themselves,
// so every package interning one reserved endpoint shares its entry.
func InternReserved(tables *intern.Tables, id uint32, labels ...string) intern.Ref {
	return tables.Endpoints.Intern(strings.Join(labels, ","), func() *flowpb.Endpoint {
		return &flowpb.Endpoint{Identity: id, Labels: labels}
	})
}

// kubeAPIServer interns the endpoint of a kube-apiserver address the way
// Cilium labels it (pkg/ipcache/cell/apiserver_watcher.go adds
// reserved:kube-apiserver to what the address already is, and
// pkg/identity picks the number): on the local node it stays the host
// (identity 1) with both labels; on another node it is identity 7 with
// reserved:remote-node; anywhere else it is identity 7 with
// reserved:world, where Cilium would allocate a node-local identity whose
// number no other agent shares.
func kubeAPIServer(tables *intern.Tables, local, remote bool) intern.Ref {
	switch {
	case local:
		return InternReserved(tables, IdentityHost, LabelHost, LabelKubeAPIServer)
	case remote:
		return InternReserved(tables, IdentityKubeAPIServer, LabelKubeAPIServer, LabelRemoteNode)
	}
	return InternReserved(tables, IdentityKubeAPIServer, LabelKubeAPIServer, LabelWorld)
}
