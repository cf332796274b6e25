// Package retina serves Retina's node-level series, its "basic" metrics
// (networkobservability_*), with Retina's names, labels and help texts, so
// that dashboards and alerts written for Retina work unchanged.
//
// Every series is read at scrape time, node_exporter style: the datapath's
// per-interface counters and drop counts, the node's sockets (netlink
// sock_diag), the kernel's TCP and IP statistics (/proc/net/netstat through
// github.com/prometheus/procfs), its interfaces' error and drop counters
// (netlink) and its connection-tracking table (netlink ctnetlink). Nothing
// is kept between scrapes and nothing is shelled out. A reader that fails
// leaves its series out of that scrape, never failing it, and says so in
// fovea_retina_collector_success{collector}.
//
// Retina's pod-level series (adv_*) and its DNS counts are counted from
// flows, in agent/flowmetrics.
package retina
