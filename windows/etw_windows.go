package windows

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"unsafe"

	syswin "golang.org/x/sys/windows"

	"github.com/foveanet/fovea/windows/internal/winapi"
)

// SessionName is the agent's ETW session. One per node: a new agent stops
// the session a crashed one left behind.
const SessionName = "fovea-pktmon"

// Buffer sizes of the session. A PktMon event carries up to --pkt-size
// bytes of packet; an event larger than a buffer is lost, so buffers are
// 64 KB, the largest a whole frame needs.
const (
	bufferKB       = 64
	minimumBuffers = 16
	maximumBuffers = 128
)

// session is a real-time ETW session subscribed to PktMon's Payload
// keyword, and its consumer.
type session struct {
	name    *uint16
	control uint64 // StartTrace's handle
	trace   uint64 // OpenTrace's handle
	stop    sync.Once
}

// handler receives the session's events, on ProcessTrace's goroutine.
type handler = func(Event)

// active is the handler of the process's one session: ETW's callback is a
// C function, created once (windows.NewCallback slots are few), which
// finds the Go side here.
var (
	active       atomic.Pointer[handler]
	callbackOnce sync.Once
	callback     uintptr
)

func eventRecordCallback(rec *winapi.EventRecord) uintptr {
	h := active.Load()
	if h == nil {
		return 0
	}
	// The header is read in place; the user data is decoded before the
	// callback returns, so nothing outlives ETW's buffer.
	hdr := unsafe.Slice((*byte)(unsafe.Pointer(rec)), EventRecordSize)
	ud := unsafe.Slice(rec.UserData, rec.UserDataLength)
	ev, err := ParseEventRecord(hdr, ud)
	if err != nil {
		return 0 // cannot happen: the lengths are the record's own
	}
	(*h)(ev)
	return 0
}

// newProperties returns EVENT_TRACE_PROPERTIES for the session.
func newProperties() *winapi.SessionProperties {
	p := new(winapi.SessionProperties)
	p.Wnode.BufferSize = uint32(unsafe.Sizeof(*p))
	p.Wnode.Flags = winapi.WnodeFlagTracedGUID
	// QPC stamps; ProcessTrace hands them to consumers as FILETIME.
	p.Wnode.ClientContext = winapi.WnodeClientContextQPC
	p.BufferSize = bufferKB
	p.MinimumBuffers = minimumBuffers
	p.MaximumBuffers = maximumBuffers
	p.LogFileMode = winapi.EventTraceRealTimeMode
	p.FlushTimer = 1 // deliver within a second however quiet the node
	p.LoggerNameOffset = uint32(unsafe.Offsetof(p.Name))
	return p
}

// etwError is a failed ETW step; access denied says what access is needed.
func etwError(step string, err error) error {
	if errors.Is(err, syswin.ERROR_ACCESS_DENIED) {
		return fmt.Errorf("%s ETW session %s: %w: the agent must run as an administrator (a HostProcess container as NT AUTHORITY\\SYSTEM)", step, SessionName, err)
	}
	return fmt.Errorf("%s ETW session %s: %w", step, SessionName, err)
}

// startSession stops a stale session of the same name, starts the session
// and enables PktMon's packet events in it.
func startSession(log *slog.Logger) (*session, error) {
	name, err := syswin.UTF16PtrFromString(SessionName)
	if err != nil {
		return nil, err
	}
	s := &session{name: name, trace: winapi.InvalidProcessTraceHandle}
	switch err := winapi.ControlTrace(0, name, newProperties(), winapi.EventTraceControlStop); {
	case err == nil:
		log.Warn("stopped the ETW session a previous agent left running", "session", SessionName)
	case errors.Is(err, syswin.ERROR_WMI_INSTANCE_NOT_FOUND):
	default:
		return nil, etwError("stop stale", err)
	}
	if err := winapi.StartTrace(&s.control, name, newProperties()); err != nil {
		return nil, etwError("start", err)
	}
	provider := syswin.GUID(PktMonProvider)
	if err := winapi.EnableTraceEx2(s.control, &provider, winapi.EventControlCodeEnable, LevelInformation, KeywordPayload, 0, 0, 0); err != nil {
		s.close()
		return nil, etwError("enable Microsoft-Windows-PktMon "+PktMonProvider.String()+" in", err)
	}
	callbackOnce.Do(func() { callback = syswin.NewCallback(eventRecordCallback) })
	logfile := winapi.EventTraceLogfile{
		LoggerName:          name,
		ProcessTraceMode:    winapi.ProcessTraceModeRealTime | winapi.ProcessTraceModeEventRecord,
		EventRecordCallback: callback,
	}
	if s.trace, err = winapi.OpenTrace(&logfile); err != nil {
		s.close()
		return nil, etwError("open for real-time consumption", err)
	}
	return s, nil
}

// process delivers the session's events to h until the session is closed.
// It runs on the caller's goroutine: every h call is from it.
func (s *session) process(h handler) error {
	if !active.CompareAndSwap(nil, &h) {
		return errors.New("process ETW session: another session of this process is being consumed")
	}
	defer active.Store(nil)
	err := winapi.ProcessTrace(&s.trace, 1, 0, 0)
	if err != nil && !errors.Is(err, syswin.ERROR_CANCELLED) {
		return fmt.Errorf("process ETW session %s: %w", SessionName, err)
	}
	return nil
}

// lost returns what the session itself counts as lost: events it had no
// buffer for, and buffers a slow consumer did not take in time.
func (s *session) lost() (events, buffers uint32, err error) {
	p := newProperties()
	if err := winapi.ControlTrace(s.control, nil, p, winapi.EventTraceControlQuery); err != nil {
		return 0, 0, fmt.Errorf("query ETW session %s: %w", SessionName, err)
	}
	return p.EventsLost, p.RealTimeBuffersLost, nil
}

// close stops the session, which ends process, and releases its handles.
// It may be called more than once.
func (s *session) close() error {
	var errs []error
	s.stop.Do(func() {
		if err := winapi.ControlTrace(s.control, nil, newProperties(), winapi.EventTraceControlStop); err != nil &&
			!errors.Is(err, syswin.ERROR_WMI_INSTANCE_NOT_FOUND) {
			errs = append(errs, fmt.Errorf("stop ETW session %s: %w", SessionName, err))
		}
		if s.trace != winapi.InvalidProcessTraceHandle {
			if err := winapi.CloseTrace(s.trace); err != nil && !errors.Is(err, syswin.ERROR_CTX_CLOSE_PENDING) {
				errs = append(errs, fmt.Errorf("close ETW trace %s: %w", SessionName, err))
			}
		}
	})
	return errors.Join(errs...)
}
