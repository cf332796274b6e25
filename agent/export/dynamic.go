package export

import (
	"errors"
	"fmt"
)

// Why the manager stops a dynamic log, written in its last node status.
var (
	stopRemoved = stopReason("removed from the flow log configuration")
	stopChanged = stopReason("its configuration changed; it starts again with the new one")
)

// SetLogs makes the dynamic file logs those of specs: a log whose name is
// new starts, one whose spec changed starts again with the new one, one
// left out stops, and one unchanged goes on untouched, even if its end has
// passed. Nothing changes if any spec is invalid, or its name or file is
// a log's the flags set.
func (m *Manager) SetLogs(specs []Spec) error {
	comp, err := m.check(specs)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	keep := make(map[string]bool, len(specs))
	for i := range specs {
		spec := new(specs[i])
		keep[spec.Name] = true
		if old, ok := m.entries[spec.Name]; ok {
			if old.spec.equal(spec) {
				continue
			}
			m.stopLocked(old, stopChanged)
		}
		m.addLocked(m.fileEntry(spec, comp[i], true))
	}
	for name, e := range m.entries {
		if e.dynamic && !keep[name] {
			m.stopLocked(e, stopRemoved)
			delete(m.entries, name)
		}
	}
	return nil
}

// check compiles specs and checks them against each other and the logs
// the flags set; errors name the log and its field.
func (m *Manager) check(specs []Spec) ([]compiled, error) {
	names, files := map[string]string{}, map[string]string{} // name → whose, file → log name
	m.mu.Lock()
	for _, e := range m.entries {
		if !e.dynamic {
			names[e.name] = "a log the flags set"
			if e.spec != nil {
				files[e.spec.FilePath] = e.name
			}
		}
	}
	m.mu.Unlock()
	comp := make([]compiled, len(specs))
	var errs []error
	for i := range specs {
		s := &specs[i]
		fail := func(err error) { errs = append(errs, fmt.Errorf("flowLogs[%d] (%s): %w", i, s.Name, err)) }
		c, err := s.compile()
		switch {
		case err != nil:
			fail(err)
		case names[s.Name] != "":
			fail(fmt.Errorf("name: taken by %s", names[s.Name]))
		case files[s.FilePath] != "":
			fail(fmt.Errorf("filePath: log %s writes it", files[s.FilePath]))
		}
		comp[i] = c
		if names[s.Name] == "" {
			names[s.Name] = "another log"
		}
		if files[s.FilePath] == "" {
			files[s.FilePath] = s.Name
		}
	}
	return comp, errors.Join(errs...)
}
