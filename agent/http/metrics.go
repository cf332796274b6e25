package http

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Label values of the parser's counters.
const (
	messageRequest = iota
	messageResponse
	numMessages
)

const (
	ignoredNotEndpoint = iota
	ignoredInside
	ignoredUpgraded
	numIgnored
)

const (
	unansweredEvicted = iota
	unansweredOverflow
	unansweredMissed
	numUnanswered
)

var (
	messageTypes     = [numMessages]string{"request", "response"}
	ignoredReasons   = [numIgnored]string{"not_endpoint", "inside_message", "upgraded"}
	unansweredCauses = [numUnanswered]string{"evicted", "overflow", "missed"}
)

// counters are written by the parser's goroutine and read by scrapes.
type counters struct {
	messages                                         [numMessages]atomic.Uint64
	ignored                                          [numIgnored]atomic.Uint64
	unanswered                                       [numUnanswered]atomic.Uint64
	parseErrors, cut, unmatched, upgrades, h2Skipped atomic.Uint64
}

var (
	messagesDesc = prometheus.NewDesc("http_messages_total",
		"HTTP/1.x messages reported as L7 flows, by type.", []string{"type"}, nil)
	ignoredDesc = prometheus.NewDesc("http_segments_ignored_total",
		"TCP segments starting like an HTTP message that were not read as one, by reason: seen off a pod's interface (not_endpoint: it changed role meanwhile), "+
			"inside the previous message's head or body (inside_message: a retransmission, or a body starting like a message), "+
			"on a connection that left HTTP/1.x (upgraded).", []string{"reason"}, nil)
	unansweredDesc = prometheus.NewDesc("http_requests_unanswered_total",
		"HTTP requests given up waiting for their response, by cause: their connection was evicted from the full pairing table "+
			"(evicted, --http-connections), more than 64 requests were pipelined (overflow), or their response was not seen "+
			"(missed: a later response came, or the pairing was unsure after segments the rate limit refused).", []string{"cause"}, nil)
	parseErrorsDesc = prometheus.NewDesc("http_parse_errors_total",
		"TCP segments starting like an HTTP message whose head did not parse: no L7 flow was made.", nil, nil)
	cutDesc = prometheus.NewDesc("http_cut_messages_total",
		"HTTP messages whose request or status line the snippet cut off (split over segments, or longer than the snippet): no L7 flow was made.", nil, nil)
	unmatchedDesc = prometheus.NewDesc("http_responses_unmatched_total",
		"HTTP responses to no request seen, or to one the parser cannot tell (a connection seen from its middle, segments the rate limit refused): no L7 flow was made.", nil, nil)
	upgradesDesc = prometheus.NewDesc("http_upgrades_total",
		"Connections that left HTTP/1.x (101 Switching Protocols to WebSocket or h2c, CONNECT tunnels), followed no further.", nil, nil)
	h2SkippedDesc = prometheus.NewDesc("http_h2_connections_skipped_total",
		"Connections starting with the HTTP/2 preface (prior knowledge, gRPC), not decoded, per interface seen at.", nil, nil)
)

// Collector returns the parser's metrics.
func (p *Parser) Collector() prometheus.Collector { return collector{p} }

type collector struct{ p *Parser }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{messagesDesc, ignoredDesc, unansweredDesc, parseErrorsDesc, cutDesc, unmatchedDesc, upgradesDesc, h2SkippedDesc} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	m := &c.p.counters
	for i, t := range messageTypes {
		ch <- prometheus.MustNewConstMetric(messagesDesc, prometheus.CounterValue, float64(m.messages[i].Load()), t)
	}
	for i, r := range ignoredReasons {
		ch <- prometheus.MustNewConstMetric(ignoredDesc, prometheus.CounterValue, float64(m.ignored[i].Load()), r)
	}
	for i, r := range unansweredCauses {
		ch <- prometheus.MustNewConstMetric(unansweredDesc, prometheus.CounterValue, float64(m.unanswered[i].Load()), r)
	}
	for _, s := range []struct {
		d *prometheus.Desc
		v *atomic.Uint64
	}{{parseErrorsDesc, &m.parseErrors}, {cutDesc, &m.cut}, {unmatchedDesc, &m.unmatched}, {upgradesDesc, &m.upgrades}, {h2SkippedDesc, &m.h2Skipped}} {
		ch <- prometheus.MustNewConstMetric(s.d, prometheus.CounterValue, float64(s.v.Load()))
	}
}
