package retina

import "github.com/prometheus/client_golang/prometheus"

// linkStats are an interface's error and drop counters, by the names
// ethtool -S and /sys/class/net/*/statistics give them.
type linkStats struct {
	name  string
	stats []linkStat
}

type linkStat struct {
	name  string
	value uint64
}

// interfaceSeries builds interface_stats: only error and drop counters
// (Retina keeps the ethtool statistics with "err" or "drop" in their
// names), zeros left out.
func interfaceSeries(links []linkStats) []prometheus.Metric {
	var out []prometheus.Metric
	for _, l := range links {
		for _, s := range l.stats {
			if s.value != 0 {
				out = append(out, prometheus.MustNewConstMetric(descIfaceStat, prometheus.GaugeValue, float64(s.value), l.name, s.name))
			}
		}
	}
	return out
}
