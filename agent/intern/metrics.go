package intern

import "github.com/prometheus/client_golang/prometheus"

var (
	entriesDesc = prometheus.NewDesc("fovea_intern_entries",
		"Values an intern table holds: interned and not yet freed.", []string{"table"}, nil)
	chunksDesc = prometheus.NewDesc("fovea_intern_chunks",
		"Storage chunks (1024 slots each) an intern table holds.", []string{"table"}, nil)
	freedDesc = prometheus.NewDesc("fovea_intern_freed_total",
		"Values freed from an intern table once no record in the ring and nothing live referenced them.", []string{"table"}, nil)
)

// tablesCollector reports the tables' sizes at scrape time, so interning
// and lookups pay nothing for them.
type tablesCollector struct{ tables *Tables }

func (c tablesCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- entriesDesc
	ch <- chunksDesc
	ch <- freedDesc
}

func (c tablesCollector) Collect(ch chan<- prometheus.Metric) {
	entries, chunks, freed := c.tables.stats()
	for i, name := range TableNames {
		ch <- prometheus.MustNewConstMetric(entriesDesc, prometheus.GaugeValue, float64(entries[i]), name)
		ch <- prometheus.MustNewConstMetric(chunksDesc, prometheus.GaugeValue, float64(chunks[i]), name)
		ch <- prometheus.MustNewConstMetric(freedDesc, prometheus.CounterValue, float64(freed[i]), name)
	}
}
