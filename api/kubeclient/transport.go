package kubeclient

import (
	"fmt"
	"net/http"
)

// errorReporter reports each request to an APIHealth: failed when the API
// server could not be reached or answered with an error that means it is
// not serving this client, answered otherwise.
type errorReporter struct {
	next     http.RoundTripper
	failed   func(error)
	answered func()
}

func (t *errorReporter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	switch {
	case err != nil:
		if req.Context().Err() == nil { // not our own shutdown
			t.failed(err)
		}
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests ||
		resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		t.failed(fmt.Errorf("%s %s: %s", req.Method, req.URL.Path, resp.Status))
	default:
		t.answered()
	}
	return resp, err
}
