package kube

import (
	"fmt"
	"net/http"
)

// errorReporter reports failed API requests, and answered ones so that the
// end of an outage shows too. Informers retry failures with backoff on their
// own, and since watch-list became client-go's default a failing initial
// list never reaches an informer's watch error handler, so the transport is
// where an unreachable or failing API server shows.
type errorReporter struct {
	next   http.RoundTripper
	report func(error)
	ok     func()
}

func (t *errorReporter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	switch {
	case err != nil:
		if req.Context().Err() == nil { // not our own shutdown
			t.report(err)
		}
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests ||
		resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		t.report(fmt.Errorf("%s %s: %s", req.Method, req.URL.Path, resp.Status))
	default:
		t.ok()
	}
	return resp, err
}
