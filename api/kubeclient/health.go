package kubeclient

import (
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

// APIHealth follows whether the Kubernetes API server serves a client: it
// counts failed requests, lists and watches, logs and publishes them at most
// once per errorReportInterval (an API server down for an hour must not
// flood the log), and reports the first answered request after failures as
// the end of an outage, so that operators see it end and not just the
// errors stop. The agent and the relay share it.
type APIHealth struct {
	log       *slog.Logger
	notify    func(event, detail string)
	errors    *prometheus.CounterVec
	reachable prometheus.Gauge

	mu         sync.Mutex
	lastReport time.Time // of an error
	// failingSince is when requests began to fail, zero while they succeed.
	failingSince time.Time
	failures     int
}

const errorReportInterval = 30 * time.Second

// NewAPIHealth returns a tracker whose metrics are named
// <namespace>_kubernetes_api_errors_total and
// <namespace>_kubernetes_api_reachable, logging to log and publishing
// "kubernetes_api_error" and "kubernetes_api_recovered" to notify (nil:
// nowhere; a nil log discards).
func NewAPIHealth(namespace string, log *slog.Logger, notify func(event, detail string)) *APIHealth {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if notify == nil {
		notify = func(string, string) {}
	}
	h := &APIHealth{
		log: log, notify: notify,
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "kubernetes_api_errors_total",
			Help: "Failed Kubernetes API requests (request) and informer lists and watches (by resource); each is retried with backoff.",
		}, []string{"what"}),
		reachable: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "kubernetes_api_reachable",
			Help: "0 from a failed Kubernetes API request until one is answered, 1 otherwise.",
		}),
	}
	h.reachable.Set(1) // until a request fails
	return h
}

// Register registers the tracker's metrics with reg.
func (h *APIHealth) Register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{h.errors, h.reachable} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register Kubernetes API metrics: %w", err)
		}
	}
	return nil
}

// Wrap makes cfg's clients report every request to h. Informers retry
// failures with backoff on their own, and since watch-list became
// client-go's default a failing initial list never reaches an informer's
// watch error handler, so the transport is where an unreachable or failing
// API server shows.
func (h *APIHealth) Wrap(cfg *rest.Config) {
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return &errorReporter{next: rt, failed: h.requestFailed, answered: h.requestAnswered}
	})
}

// WatchErrorHandler counts and reports the failed lists and watches of an
// informer of resource.
func (h *APIHealth) WatchErrorHandler(resource string) cache.WatchErrorHandler {
	return func(_ *cache.Reflector, err error) { h.failed(resource, err) }
}

// failed counts an error and reports it unless one was reported recently.
func (h *APIHealth) failed(what string, err error) {
	h.errors.WithLabelValues(what).Inc()
	now := time.Now()
	h.mu.Lock()
	quiet := now.Sub(h.lastReport) < errorReportInterval
	if !quiet {
		h.lastReport = now
	}
	h.mu.Unlock()
	if quiet {
		return
	}
	h.log.Warn("Kubernetes API error; retrying with backoff, keeping what is known", "what", what, "err", err)
	h.notify("kubernetes_api_error", fmt.Sprintf("%s: %v", what, err))
}

// requestFailed reports a request the API server did not answer, or
// refused or failed: it is unreachable until one is answered.
func (h *APIHealth) requestFailed(err error) {
	h.mu.Lock()
	if h.failingSince.IsZero() {
		h.failingSince = time.Now()
		h.reachable.Set(0)
	}
	h.failures++
	h.mu.Unlock()
	h.failed("request", err)
}

// requestAnswered reports a request the API server answered.
func (h *APIHealth) requestAnswered() {
	h.mu.Lock()
	since, failures := h.failingSince, h.failures
	if since.IsZero() {
		h.mu.Unlock()
		return
	}
	h.failingSince, h.failures = time.Time{}, 0
	h.reachable.Set(1)
	h.mu.Unlock()
	took := time.Since(since).Round(time.Millisecond)
	h.log.Info("Kubernetes API reachable again", "after", took, "failed_requests", failures)
	h.notify("kubernetes_api_recovered", fmt.Sprintf("after %v and %d failed requests", took, failures))
}
