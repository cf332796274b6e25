package dns

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// parserCounters are written by the parser's goroutine and read by scrapes.
type parserCounters struct {
	queries, responses, parseErrors, cut, duplicates atomic.Uint64
}

var (
	messagesDesc = prometheus.NewDesc("dns_messages_total",
		"DNS messages decoded into L7 flows, by type.", []string{"type"}, nil)
	parseErrorsDesc = prometheus.NewDesc("dns_parse_errors_total",
		"Payloads on a DNS port that did not decode as a DNS message with a question: no L7 flow was made.", nil, nil)
	cutDesc = prometheus.NewDesc("dns_truncated_messages_total",
		"DNS messages longer than the captured snippet, decoded without the answers that did not fit.", nil, nil)
	duplicatesDesc = prometheus.NewDesc("dns_duplicate_messages_total",
		"DNS messages seen again at another observation point on their path, reported once.", nil, nil)
	namesDesc = prometheus.NewDesc("dns_names_cache_entries",
		"Addresses the IP-to-names cache holds.", nil, nil)
	namesEvictedDesc = prometheus.NewDesc("dns_names_cache_evictions_total",
		"Addresses evicted from the full IP-to-names cache before their names expired.", nil, nil)
)

// Collector returns the parser's metrics.
func (p *Parser) Collector() prometheus.Collector { return parserCollector{p} }

type parserCollector struct{ p *Parser }

func (c parserCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- messagesDesc
	ch <- parseErrorsDesc
	ch <- cutDesc
	ch <- duplicatesDesc
}

func (c parserCollector) Collect(ch chan<- prometheus.Metric) {
	m := &c.p.counters
	ch <- prometheus.MustNewConstMetric(messagesDesc, prometheus.CounterValue, float64(m.queries.Load()), "query")
	ch <- prometheus.MustNewConstMetric(messagesDesc, prometheus.CounterValue, float64(m.responses.Load()), "response")
	ch <- prometheus.MustNewConstMetric(parseErrorsDesc, prometheus.CounterValue, float64(m.parseErrors.Load()))
	ch <- prometheus.MustNewConstMetric(cutDesc, prometheus.CounterValue, float64(m.cut.Load()))
	ch <- prometheus.MustNewConstMetric(duplicatesDesc, prometheus.CounterValue, float64(m.duplicates.Load()))
}

// Collector returns the cache's metrics.
func (n *Names) Collector() prometheus.Collector { return namesCollector{n} }

type namesCollector struct{ n *Names }

func (c namesCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- namesDesc
	ch <- namesEvictedDesc
}

func (c namesCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(namesDesc, prometheus.GaugeValue, float64(c.n.Len()))
	ch <- prometheus.MustNewConstMetric(namesEvictedDesc, prometheus.CounterValue, float64(c.n.evicted.Load()))
}
