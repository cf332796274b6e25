package export

import (
	"strings"
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"
)

func TestParseFiltersTakesCiliumsForm(t *testing.T) {
	fs, err := ParseFilters(`{"source_pod":["kube-system/"]} {"verdict":["DROPPED"]}` + "\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 || fs[0].GetSourcePod()[0] != "kube-system/" || fs[1].GetVerdict()[0].String() != "DROPPED" {
		t.Fatalf("parsed %v", fs)
	}
	if fs, err := ParseFilters(""); err != nil || len(fs) != 0 {
		t.Fatalf("empty: %v, %v", fs, err)
	}
	for _, bad := range []string{`{"source_pod":`, `{"no_such_field":[]}`, `[{"source_pod":["a/"]}]`} {
		if _, err := ParseFilters(bad); err == nil {
			t.Errorf("%s parsed", bad)
		}
	}
}

func TestSpecErrorsNameTheField(t *testing.T) {
	ok := Spec{Name: "a", FilePath: "/tmp/a.log"}
	for want, s := range map[string]Spec{
		"name:":             {FilePath: "x"},
		"filePath:":         {Name: "a"},
		"fileMaxSizeMb:":    {Name: "a", FilePath: "x", FileMaxSizeMB: -1},
		"fieldMask:":        {Name: "a", FilePath: "x", FieldMask: []string{"no_such_field"}},
		"includeFilters[0]": {Name: "a", FilePath: "x", IncludeFilters: mustFilters(t, `{"source_ip":["not an ip"]}`)},
		"excludeFilters[0]": {Name: "a", FilePath: "x", ExcludeFilters: mustFilters(t, `{"source_ip":["not an ip"]}`)},
	} {
		_, err := s.compile()
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%+v: error %v, want one starting %q", s, err, want)
		}
	}
	if _, err := ok.compile(); err != nil {
		t.Fatal(err)
	}
}

func mustFilters(t *testing.T, s string) []*flowpb.FlowFilter {
	t.Helper()
	fs, err := ParseFilters(s)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}
