package retina

import (
	"reflect"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"
)

// netstatSeries builds tcp_connection_stats from the TcpExt statistics of
// /proc/net/netstat and ip_connection_stats from its IpExt ones, named as
// the kernel names them, zeros left out (as Retina does).
func netstatSeries(ns procfs.ProcNetstat) []prometheus.Metric {
	out := appendNonZero(nil, descTCPStats, reflect.ValueOf(ns.TcpExt))
	return appendNonZero(out, descIPStats, reflect.ValueOf(ns.IpExt))
}

// appendNonZero appends a series for each statistic of group, a procfs
// struct whose fields are the kernel's names of its statistics, each a
// *float64 left nil when the kernel does not have it.
func appendNonZero(out []prometheus.Metric, d *prometheus.Desc, group reflect.Value) []prometheus.Metric {
	t := group.Type()
	for i := range t.NumField() {
		v, ok := group.Field(i).Interface().(*float64)
		if !ok || v == nil || *v == 0 {
			continue
		}
		out = append(out, prometheus.MustNewConstMetric(d, prometheus.GaugeValue, *v, t.Field(i).Name))
	}
	return out
}
