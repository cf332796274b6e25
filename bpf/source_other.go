//go:build !linux

package bpf

import (
	"context"
	"errors"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
)

var errUnsupported = errors.New("bpf capture source: only supported on Linux")

// Source captures packets; it exists only on Linux.
type Source struct{}

// NewSource fails: eBPF capture needs Linux.
func NewSource(Config, *slog.Logger, *intern.Tables, ...Option) (*Source, error) {
	return nil, errUnsupported
}

// Run fails: eBPF capture needs Linux.
func (*Source) Run(context.Context, func(*record.Record)) error { return errUnsupported }

// Close does nothing.
func (*Source) Close() error { return nil }

// Collector returns a collector without metrics.
func (*Source) Collector() prometheus.Collector { return emptyCollector{} }

type emptyCollector struct{}

func (emptyCollector) Describe(chan<- *prometheus.Desc) {}
func (emptyCollector) Collect(chan<- prometheus.Metric) {}
