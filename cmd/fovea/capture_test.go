package main

import (
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func TestByteSize(t *testing.T) {
	for in, want := range map[string]uint64{"4096": 4096, "50MB": 50e6, "50mb": 50e6, "1.5GiB": 3 << 29, "10KiB": 10240, "2k": 2000, "7B": 7} {
		var b byteSize
		if err := b.Set(in); err != nil || uint64(b) != want {
			t.Errorf("%s = %d, %v; want %d", in, b, err, want)
		}
	}
	for _, bad := range []string{"", "MB", "-1MB", "5 parsecs", "1e6"} {
		var b byteSize
		if err := b.Set(bad); err == nil {
			t.Errorf("%q parsed as %d", bad, b)
		}
	}
}

func TestStartRequest(t *testing.T) {
	var f startFlags
	fs := pflag.NewFlagSet("start", pflag.ContinueOnError)
	f.bind(fs)
	if err := fs.Parse([]string{"-l", "app=web", "-n", "prod", "--duration", "30s", "--max-size", "50MB", "-o", "out.pcapng",
		"--flow-filter", `{"source_pod":["prod/web"]}`, "-f", "tcp port 80"}); err != nil {
		t.Fatal(err)
	}
	req, err := f.request()
	if err != nil {
		t.Fatal(err)
	}
	sel := req.GetSelector()
	if sel.GetNamespace() != "prod" || sel.GetPodSelector() != "app=web" || req.GetFilter() != "tcp port 80" ||
		req.GetLimits().GetDuration().AsDuration() != 30*time.Second || req.GetLimits().GetMaxBytes() != 50e6 ||
		len(sel.GetFlowFilters()) != 1 || sel.GetFlowFilters()[0].GetSourcePod()[0] != "prod/web" {
		t.Errorf("request %v", req)
	}
	f.flowFilters = []string{"{"}
	if _, err := f.request(); err == nil {
		t.Error("a request with a flow filter that is not JSON")
	}
	f.flowFilters, f.output = nil, ""
	if _, err := f.request(); err == nil {
		t.Error("a request without --output")
	}
}
