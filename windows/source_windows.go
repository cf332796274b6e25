package windows

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/foveanet/fovea/model/intern"
	"github.com/foveanet/fovea/model/record"
	"github.com/foveanet/fovea/windows/internal/winapi"
)

// Config configures the Windows source.
type Config struct {
	// PacketSize is how many bytes of each packet PktMon logs; the
	// headers need 128 (VLAN, IPv6 with extension headers, TCP).
	PacketSize int
	// EndpointsInterval is how often HNS endpoints and PktMon components
	// are listed again.
	EndpointsInterval time.Duration
}

// Source is the agent's packet source on Windows: the PktMon capture, the
// ETW session that consumes it, and the HNS endpoints that tell pods.
type Source struct {
	cfg        Config
	log        *slog.Logger
	endpoints  *Endpoints
	components *Components
	decoder    *Decoder
	capture    *capture
	session    *session
	ready      func()
}

// NewSource starts the PktMon capture and the ETW session; ready runs once
// events flow to Run.
func NewSource(ctx context.Context, cfg Config, log *slog.Logger, tables *intern.Tables, ready func()) (*Source, error) {
	if err := winapi.LoadETW(); err != nil {
		return nil, fmt.Errorf("load ETW: %w", err)
	}
	s := &Source{cfg: cfg, log: log, endpoints: new(Endpoints), components: new(Components), ready: ready}
	s.decoder = NewDecoder(tables, s.endpoints, s.components)
	var err error
	if s.capture, err = startCapture(ctx, log, cfg.PacketSize); err != nil {
		return nil, err
	}
	s.refresh(ctx)
	if s.session, err = startSession(log); err != nil {
		return nil, errors.Join(err, s.capture.stop(ctx))
	}
	return s, nil
}

// refresh lists HNS endpoints and PktMon components again; on failure the
// previous set stays.
func (s *Source) refresh(ctx context.Context) {
	if eps, err := listEndpoints(); err != nil {
		s.log.Warn("cannot list HNS endpoints; keeping the previous set", "err", err)
	} else {
		s.endpoints.Set(eps)
	}
	if comps, err := s.capture.components(ctx); err != nil {
		s.log.Warn("cannot list PktMon components; keeping the previous set", "err", err)
	} else {
		s.components.Set(comps)
	}
}

// Run consumes the session until ctx ends, emitting from its own
// goroutine (ETW calls back on the goroutine that runs ProcessTrace).
func (s *Source) Run(ctx context.Context, emit func(*record.Record)) error {
	stop := context.AfterFunc(ctx, func() {
		if err := s.session.close(); err != nil {
			s.log.Warn("cannot stop ETW session", "err", err)
		}
	})
	defer stop()
	go func() {
		t := time.NewTicker(s.cfg.EndpointsInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				s.refresh(ctx)
			}
		}
	}()
	s.ready()
	if err := s.session.process(s.decoder.Handler(emit)); err != nil {
		return err
	}
	if ctx.Err() == nil {
		// Stopped from outside (logman stop, another agent): nothing more
		// would arrive, so the agent must not go on as if capturing.
		return fmt.Errorf("ETW session %s ended while the agent runs", SessionName)
	}
	return nil
}

// Close stops the session and the PktMon capture.
func (s *Source) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return errors.Join(s.session.close(), s.capture.stop(ctx))
}

var (
	descSessionLost = prometheus.NewDesc("windows_etw_session_lost_events_total",
		"Events the ETW session lost for want of buffer space (EVENT_TRACE_PROPERTIES.EventsLost), since it started.", nil, nil)
	descSessionBuffersLost = prometheus.NewDesc("windows_etw_session_lost_buffers_total",
		"Buffers the ETW session dropped because the agent did not consume them in time (RealTimeBuffersLost), since it started.", nil, nil)
	descEndpoints = prometheus.NewDesc("windows_hns_endpoint_addresses",
		"Addresses of this node's HNS endpoints the source knows as pods.", nil, nil)
)

// Collector returns the decoder's counters and the session's own loss
// counts, queried at scrape time.
func (s *Source) Collector() prometheus.Collector { return sourceCollector{s} }

type sourceCollector struct{ s *Source }

func (c sourceCollector) Describe(ch chan<- *prometheus.Desc) {
	c.s.decoder.Collector().Describe(ch)
	ch <- descSessionLost
	ch <- descSessionBuffersLost
	ch <- descEndpoints
}

func (c sourceCollector) Collect(ch chan<- prometheus.Metric) {
	c.s.decoder.Collector().Collect(ch)
	if events, buffers, err := c.s.session.lost(); err == nil {
		ch <- prometheus.MustNewConstMetric(descSessionLost, prometheus.CounterValue, float64(events))
		ch <- prometheus.MustNewConstMetric(descSessionBuffersLost, prometheus.CounterValue, float64(buffers))
	}
	ch <- prometheus.MustNewConstMetric(descEndpoints, prometheus.GaugeValue, float64(c.s.endpoints.Len()))
}

// PortCounters reads every endpoint's HNS statistics and VFP port
// counters, for Retina's Windows series; an endpoint whose statistics
// cannot be read is left out, VFP counters are optional.
func (s *Source) PortCounters() ([]PortCounters, error) {
	eps, err := listEndpoints()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var ports map[string]string
	if out, err := vfpctrl(ctx, "/list-vmswitch-port"); err == nil {
		ports = ParseVFPPortList(out)
	}
	out := make([]PortCounters, 0, len(eps))
	for _, ep := range eps {
		st, err := endpointStats(ep.ID)
		if err != nil {
			continue
		}
		pc := PortCounters{Endpoint: st}
		if port, ok := ports[ep.MAC.String()]; ok {
			if raw, err := vfpctrl(ctx, "/port", port, "/get-port-counter"); err == nil {
				if v, err := ParseVFPPortCounters(raw); err == nil {
					pc.VFP = &v
				}
			}
		}
		out = append(out, pc)
	}
	if len(out) == 0 && len(eps) > 0 {
		return nil, fmt.Errorf("read HNS endpoint stats: none of %d endpoints answered", len(eps))
	}
	return out, nil
}
