package endpoints

import "hash/fnv"

// Identities hashed from labels fall in Cilium's cluster-local range:
// numbers below 256 are reserved identities (host, world, …), and numbers
// above 65535 carry a cluster ID in ClusterMesh.
const (
	MinIdentity = 256
	MaxIdentity = 65535
)

// Identity returns the numeric identity of a sorted set of identity
// labels: a hash into [MinIdentity, MaxIdentity], so every agent of a
// cluster derives the same number without coordination (Cilium allocates
// them through the apiserver or a kvstore instead).
//
// Two label sets can share a number: with n distinct sets the chance of
// any collision is about n²/130 560 (1 % at 36 sets, 50 % at 300). It is
// acceptable because fovea enforces no policy: the identity only groups
// flows (`hubble observe --identity`, Hubble UI), and every flow also
// carries its full labels, which never collide.
func Identity(sortedLabels []string) uint32 {
	h := fnv.New64a()
	for _, l := range sortedLabels {
		_, _ = h.Write([]byte(l))
		_, _ = h.Write([]byte{0})
	}
	return MinIdentity + uint32(h.Sum64()%(MaxIdentity-MinIdentity+1))
}
