package kubeclient

import (
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

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
	log    *slog.Logger
	notify func(event, detail string)

	mu         sync.Mutex
	lastReport time.Time // of an error
	// failingSince is when requests began to fail, zero while they succeed.
	failingSince time.Time
	failures     int
	// errors counts failed requests ("request") and lists and watches (by
	// resource) since start, for metrics.
	errors map[string]uint64
}

const errorReportInterval = 30 * time.Second

// NewAPIHealth returns a tracker logging to log and publishing
// "kubernetes_api_error" and "kubernetes_api_recovered" to notify (nil:
// nowhere; a nil log discards).
func NewAPIHealth(log *slog.Logger, notify func(event, detail string)) *APIHealth {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if notify == nil {
		notify = func(string, string) {}
	}
	return &APIHealth{log: log, notify: notify, errors: map[string]uint64{}}
}

// Wrap makes cfg's clients report every request to h. Reflectors retry
// failures with backoff on their own and, since watch-list became
// client-go's default, never pass a failing initial list to an informer's
// watch error handler, so the transport is where an unreachable or failing
// API server shows, and its recovery.
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
	now := time.Now()
	h.mu.Lock()
	h.errors[what]++
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
	h.mu.Unlock()
	took := time.Since(since).Round(time.Millisecond)
	h.log.Info("Kubernetes API reachable again", "after", took, "failed_requests", failures)
	h.notify("kubernetes_api_recovered", fmt.Sprintf("after %v and %d failed requests", took, failures))
}
