package windows

import (
	"log/slog"
	"strings"
	"testing"
)

// TestStartSession runs the session's start-up against the ETW the test
// runs on. On a Windows host that lets it (an administrator), the session
// starts and stops; elsewhere (an unprivileged user, Wine's partial ETW)
// it must fail with an error that names the session and the step, never
// crash or leave a session behind.
func TestStartSession(t *testing.T) {
	s, err := startSession(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Logf("start session: %v", err)
		if !strings.Contains(err.Error(), SessionName) {
			t.Errorf("error %q does not name the session %s", err, SessionName)
		}
		return
	}
	if err := s.close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if err := s.close(); err != nil {
		t.Errorf("second close: %v", err)
	}
}
