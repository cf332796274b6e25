package observer

import (
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// eventRequest is what GetFlows, GetAgentEvents and GetDebugEvents requests
// share.
type eventRequest interface {
	GetNumber() uint64
	GetFirst() bool
	GetFollow() bool
	GetSince() *timestamppb.Timestamp
	GetUntil() *timestamppb.Timestamp
}

// timeRange bounds the events a request wants; zero bounds are open.
type timeRange struct {
	since, until time.Time
}

// before reports whether t is older than the range.
func (r timeRange) before(t time.Time) bool { return !r.since.IsZero() && t.Before(r.since) }

// after reports whether t is newer than the range.
func (r timeRange) after(t time.Time) bool { return !r.until.IsZero() && t.After(r.until) }

// validate checks what every event request shares and returns its range.
func validate(req eventRequest) (timeRange, error) {
	var r timeRange
	if req.GetFirst() && req.GetFollow() {
		return r, invalid("first: cannot be combined with follow")
	}
	var err error
	if r.since, err = timestamp("since", req.GetSince()); err != nil {
		return r, err
	}
	if r.until, err = timestamp("until", req.GetUntil()); err != nil {
		return r, err
	}
	if !r.since.IsZero() && !r.until.IsZero() && r.since.After(r.until) {
		return r, invalid("since: %s is after until %s", r.since.Format(time.RFC3339Nano), r.until.Format(time.RFC3339Nano))
	}
	return r, nil
}

func timestamp(field string, ts *timestamppb.Timestamp) (time.Time, error) {
	if ts == nil {
		return time.Time{}, nil
	}
	if err := ts.CheckValid(); err != nil {
		return time.Time{}, invalid("%s: %v", field, err)
	}
	return ts.AsTime(), nil
}

func invalid(format string, args ...any) error {
	return status.Error(codes.InvalidArgument, fmt.Sprintf(format, args...))
}
