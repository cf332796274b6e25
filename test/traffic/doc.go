// Package traffic generates bounded, describable traffic between pods of a
// test cluster: TCP request/response on short connections, a long-lived TCP
// connection sending periodically, UDP request/response, ICMP echo and a TCP
// connect to a closed port and DNS lookups against a small authoritative zone
// served from a pod, each over IPv4 or IPv6, plus a continuous mix for demos.
//
// Every client returns a Conn naming the exact 5-tuple it used (pod, IP and
// port of both ends, protocol, ICMP echo id), so end-to-end tests can look
// for the flows of that connection in both directions. Code runs inside a
// pod's network namespace through the Netns interface, which
// test/cluster.Netns implements; the package does not depend on how the
// namespaces are built.
package traffic
