package intern

import "github.com/prometheus/client_golang/prometheus"

var (
	entriesDesc = prometheus.NewDesc("intern_entries",
		"Values an intern table holds: interned and not yet freed.", []string{"table"}, nil)
	chunksDesc = prometheus.NewDesc("intern_chunks",
		"Slot arrays (1024 slots each) an intern table holds.", []string{"table"}, nil)
	stragglersDesc = prometheus.NewDesc("intern_stragglers",
		"Values an intern table holds outside slot arrays: the few left in chunks it retired.", []string{"table"}, nil)
	freedDesc = prometheus.NewDesc("intern_freed_total",
		"Values freed from an intern table once no record in the ring and nothing live referenced them.", []string{"table"}, nil)
	exhaustedDesc = prometheus.NewDesc("intern_exhausted_total",
		"Values not interned because the table had issued all 2^32-1 references: flows show them as unknown.", []string{"table"}, nil)
)

// Collector returns the tables' metrics, read at scrape time so that
// interning and lookups pay nothing for them.
func (t *Tables) Collector() prometheus.Collector { return tablesCollector{t} }

type tablesCollector struct{ tables *Tables }

func (c tablesCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- entriesDesc
	ch <- chunksDesc
	ch <- stragglersDesc
	ch <- freedDesc
	ch <- exhaustedDesc
}

func (c tablesCollector) Collect(ch chan<- prometheus.Metric) {
	for i, s := range c.tables.stats() {
		name := TableNames[i]
		ch <- prometheus.MustNewConstMetric(entriesDesc, prometheus.GaugeValue, float64(s.entries), name)
		ch <- prometheus.MustNewConstMetric(chunksDesc, prometheus.GaugeValue, float64(s.chunks), name)
		ch <- prometheus.MustNewConstMetric(stragglersDesc, prometheus.GaugeValue, float64(s.stragglers), name)
		ch <- prometheus.MustNewConstMetric(freedDesc, prometheus.CounterValue, float64(s.freed), name)
		ch <- prometheus.MustNewConstMetric(exhaustedDesc, prometheus.CounterValue, float64(s.exhausted), name)
	}
}
