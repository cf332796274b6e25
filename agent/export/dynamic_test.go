package export

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	observerpb "github.com/cilium/cilium/api/v1/observer"
)

// flowPorts are the source ports of the flows in rs.
func flowPorts(rs []*observerpb.GetFlowsResponse) []uint32 {
	var out []uint32
	for _, r := range rs {
		if f := r.GetFlow(); f != nil {
			out = append(out, f.GetL4().GetTCP().GetSourcePort())
		}
	}
	return out
}

// lastStatus is the message of the last node status in rs.
func lastStatus(rs []*observerpb.GetFlowsResponse) string {
	for i := len(rs) - 1; i >= 0; i-- {
		if st := rs[i].GetNodeStatus(); st != nil {
			return st.GetStateChange().String() + ": " + st.GetMessage()
		}
	}
	return ""
}

// TestConfigWatcherAddsChangesRemovesLogs rewrites a flow log
// configuration under running logs: a new log starts, a changed one starts
// again with its new filter, a removed one stops, an unchanged one goes
// on, a broken file changes nothing and is reported, and a log stops at
// its end.
func TestConfigWatcherAddsChangesRemovesLogs(t *testing.T) {
	e := newEnv(t, 1023)
	dir := t.TempDir()
	file := func(name string) string { return filepath.Join(dir, name+".log") }
	cfgPath := filepath.Join(dir, "flowlogs.yaml")
	writeConfig := func(yaml string) {
		t.Helper()
		// Through a rename, as a ConfigMap update is seen.
		tmp := cfgPath + ".tmp"
		if err := os.WriteFile(tmp, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, cfgPath); err != nil {
			t.Fatal(err)
		}
	}
	writeConfig(fmt.Sprintf(`flowLogs:
- name: even
  filePath: %s
  includeFilters: [{destination_port: ["80"]}]
- name: gone
  filePath: %s
- name: same
  filePath: %s
  fieldMask: [l4]
`, file("even"), file("gone"), file("same")))
	var n notes
	m := NewManager(e.ring, e.node, WithNotify(n.notify))
	w, err := NewConfigWatcher(cfgPath, m, WithWatchInterval(20*time.Millisecond), WithWatchNotify(n.notify))
	if err != nil {
		t.Fatal(err)
	}
	runManager(t, m)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() { _ = w.Run(ctx) }()
	for _, name := range []string{"even", "gone", "same"} {
		waitLog(t, file(name), 1) // started
	}
	e.write(4) // ports 0-3
	waitLog(t, file("gone"), 5)
	waitLog(t, file("same"), 5)
	if got := flowPorts(waitLog(t, file("even"), 3)); !slices.Equal(got, []uint32{0, 2}) {
		t.Fatalf("even logged %v, want [0 2]", got)
	}

	writeConfig(fmt.Sprintf(`flowLogs:
- name: even
  filePath: %s
  includeFilters: [{destination_port: ["443"]}]
- name: same
  filePath: %s
  fieldMask: [l4]
- name: new
  filePath: %s
`, file("even"), file("same"), file("new")))
	eventually(t, "gone stopped", func() bool {
		return strings.HasSuffix(lastStatus(readLogFile(t, file("gone"))), "removed from the flow log configuration")
	})
	waitLog(t, file("new"), 1)
	eventually(t, "even started again", func() bool {
		rs := readLogFile(t, file("even"))
		return len(rs) == 5 && lastStatus(rs) == "NODE_CONNECTED: flow export started"
	})
	if got := readLogFile(t, file("even"))[3].GetNodeStatus().GetMessage(); !strings.Contains(got, "configuration changed") {
		t.Errorf("even's stop says %q, want its configuration changed", got)
	}
	e.write(4) // ports 4-7
	if got := flowPorts(waitLog(t, file("even"), 7)); !slices.Equal(got, []uint32{0, 2, 5, 7}) {
		t.Errorf("even logged %v, want [0 2] then [5 7] with its new filter", got)
	}
	if got := flowPorts(waitLog(t, file("new"), 5)); !slices.Equal(got, []uint32{4, 5, 6, 7}) {
		t.Errorf("new logged %v, want [4 5 6 7]", got)
	}
	if got := flowPorts(waitLog(t, file("same"), 9)); !slices.Equal(got, []uint32{0, 1, 2, 3, 4, 5, 6, 7}) {
		t.Errorf("same logged %v, want all 8 in one run", got)
	}
	if got := len(readLogFile(t, file("gone"))); got != 6 {
		t.Errorf("gone holds %d events, want its start, 4 flows and its stop", got)
	}

	writeConfig("flowLogs:\n- name: even\n  filePath: " + file("even") + "\n  includeFilters: [{source_ip: [\"not an address\"]}]\n")
	eventually(t, "the broken file reported", func() bool { return w.failures.Load() >= 1 && slices.Contains(n.get(), "flowlogs_config_error") })
	if w.lastOK.Load() {
		t.Error("the broken file left export_config_last_reload_successful at 1")
	}
	e.write(2) // ports 8-9
	if got := flowPorts(waitLog(t, file("new"), 7)); !slices.Equal(got, []uint32{4, 5, 6, 7, 8, 9}) {
		t.Errorf("after a broken file, new logged %v, want it to go on", got)
	}

	end := time.Now().Add(300 * time.Millisecond).UTC().Format(time.RFC3339Nano)
	writeConfig(fmt.Sprintf("flowLogs:\n- name: new\n  filePath: %s\n  end: %q\n", file("new"), end))
	eventually(t, "new stopped at its end", func() bool {
		return strings.HasSuffix(lastStatus(readLogFile(t, file("new"))), "its end passed")
	})
	if !w.lastOK.Load() || w.loads.Load() != 3 {
		t.Errorf("after a good file: last reload successful %v, %d loads; want true, 3", w.lastOK.Load(), w.loads.Load())
	}
	before := len(readLogFile(t, file("new")))
	e.write(2)
	time.Sleep(100 * time.Millisecond) // time enough to write, were it running
	if got := len(readLogFile(t, file("new"))); got != before {
		t.Errorf("a log past its end wrote %d more events", got-before)
	}
}

func TestSetLogsRejectsClashes(t *testing.T) {
	e := newEnv(t, 15)
	m := NewManager(e.ring, e.node, WithLogger(slog.New(slog.DiscardHandler)))
	if err := m.AddLog(Spec{Name: "static", FilePath: "/tmp/static.log"}); err != nil {
		t.Fatal(err)
	}
	for want, specs := range map[string][]Spec{
		"name: taken by a log the flags set": {{Name: "static", FilePath: "/tmp/a.log"}},
		"filePath: log static writes it":     {{Name: "a", FilePath: "/tmp/static.log"}},
		"name: taken by another log":         {{Name: "a", FilePath: "/tmp/a.log"}, {Name: "a", FilePath: "/tmp/b.log"}},
		"filePath: log a writes it":          {{Name: "a", FilePath: "stdout"}, {Name: "b", FilePath: "stdout"}},
		"flowLogs[1] (b): fieldMask":         {{Name: "a", FilePath: "/tmp/a.log"}, {Name: "b", FilePath: "/tmp/b.log", FieldMask: []string{"nope"}}},
	} {
		if err := m.SetLogs(specs); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: error %v, want %q", specs, err, want)
		}
	}
	if len(m.entries) != 1 {
		t.Errorf("rejected configurations left %d logs, want the static one", len(m.entries))
	}
}

func TestParseConfigIsStrict(t *testing.T) {
	specs, err := ParseConfig([]byte(`flowLogs:
- name: a
  filePath: /var/log/a.log
  fieldMask: [time, source.pod_name]
  includeFilters: [{source_pod: ["prod/"]}]
  excludeFilters: [{verdict: [DROPPED]}]
  fileMaxSizeMb: 5
  fileMaxBackups: 2
  fileCompress: true
  end: "2030-01-02T03:04:05Z"
`))
	if err != nil {
		t.Fatal(err)
	}
	s := specs[0]
	if s.Name != "a" || len(s.FieldMask) != 2 || s.IncludeFilters[0].GetSourcePod()[0] != "prod/" ||
		s.ExcludeFilters[0].GetVerdict()[0].String() != "DROPPED" || s.FileMaxSizeMB != 5 || s.FileMaxBackups != 2 ||
		!s.FileCompress || !s.End.Equal(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("parsed %+v", s)
	}
	for _, bad := range []string{"flowLogs:\n- name: a\n  file: x\n", "flowLogs:\n- name: a\n  includeFilters: [{source_podd: [x]}]\n", "flowLogs: {}\n"} {
		if _, err := ParseConfig([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
