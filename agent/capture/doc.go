// Package capture serves the Capture service on an agent: packet captures
// of the node's pods, chosen like flows (namespace, pod labels, pod names,
// node labels, Hubble flow filters), each on an AF_PACKET socket per pod
// veth that runs a tcpdump pcap-filter expression compiled to classic BPF
// in the kernel. A capture streams its packets, in time order, to the
// caller of Start and keeps them in a pcapng file for Download; it ends at
// its duration, packet or size limit, on Stop, when its caller goes away,
// or when every pod it captures is deleted, and says which.
//
// A node bounds what captures cost: how many run at once, how much their
// files take on disk together (the oldest finished ones are removed to
// make room, and a capture that would not fit is refused), and how much
// packet data waits in memory per capture (readers then wait, and the
// kernel drops and counts what its socket buffers cannot hold).
//
// How a pod's interface is found: the pods of the node come from the
// endpoints index (the inventory or the Kubernetes caches, which know each
// pod's addresses); the host side of the veth leading to a pod address is
// the interface the route to it leaves through (routed CNIs such as
// Calico), or, when that is a bridge (flannel's cni0), the bridge's veth
// port whose peer holds the address in its network namespace (bpf.PodLink).
package capture
