package windows

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"unsafe"

	syswin "golang.org/x/sys/windows"

	"github.com/foveanet/fovea/windows/internal/winapi"
)

// hcnQuery is the HostComputeQuery listing every endpoint, schema 2.
const hcnQuery = `{"SchemaVersion":{"Major":2,"Minor":0},"Flags":0}`

// takeString returns the CoTaskMemAlloc'd UTF-16 string p and frees it.
func takeString(p *uint16) string {
	if p == nil {
		return ""
	}
	s := syswin.UTF16PtrToString(p)
	syswin.CoTaskMemFree(unsafe.Pointer(p))
	return s
}

// hcnError is an HNS call's failure with its error record, if any.
func hcnError(call string, hr error, record *uint16) error {
	if r := takeString(record); r != "" {
		return fmt.Errorf("%s: %w: %s", call, hr, r)
	}
	return fmt.Errorf("%s: %w", call, hr)
}

// errNoHNS explains why HNS calls are missing.
const errNoHNS = "HNS is not available (computenetwork.dll and vmcompute.dll come with the Containers feature of Windows Server)"

// listEndpoints returns the node's HNS endpoints.
func listEndpoints() ([]Endpoint, error) {
	if err := winapi.LoadHNS(); err != nil {
		return nil, fmt.Errorf("list HNS endpoints: %w: %s", err, errNoHNS)
	}
	query, err := syswin.UTF16PtrFromString(hcnQuery)
	if err != nil {
		return nil, err
	}
	var list, record *uint16
	if hr := winapi.HcnEnumerateEndpoints(query, &list, &record); hr != nil {
		return nil, hcnError("list HNS endpoints", hr, record)
	}
	ids, err := parseEndpointIDs([]byte(takeString(list)))
	if err != nil {
		return nil, err
	}
	eps := make([]Endpoint, 0, len(ids))
	for _, id := range ids {
		ep, err := queryEndpoint(id, query)
		if err != nil {
			// Deleted since it was listed: not an error.
			continue
		}
		eps = append(eps, ep)
	}
	return eps, nil
}

func queryEndpoint(id GUID, query *uint16) (Endpoint, error) {
	var h uintptr
	var props, record *uint16
	gid := syswin.GUID(id)
	if hr := winapi.HcnOpenEndpoint(&gid, &h, &record); hr != nil {
		return Endpoint{}, hcnError("open HNS endpoint "+id.String(), hr, record)
	}
	defer winapi.HcnCloseEndpoint(h)
	if hr := winapi.HcnQueryEndpointProperties(h, query, &props, &record); hr != nil {
		return Endpoint{}, hcnError("query HNS endpoint "+id.String(), hr, record)
	}
	return ParseEndpoint([]byte(takeString(props)))
}

// endpointStats returns an endpoint's counters (HNS v1, which schema 2
// does not serve).
func endpointStats(id string) (EndpointStats, error) {
	if err := winapi.LoadHNS(); err != nil {
		return EndpointStats{}, fmt.Errorf("get HNS endpoint stats: %w: %s", err, errNoHNS)
	}
	method, _ := syswin.UTF16PtrFromString("GET")
	path, err := syswin.UTF16PtrFromString("/endpointstats/" + id)
	if err != nil {
		return EndpointStats{}, err
	}
	empty, _ := syswin.UTF16PtrFromString("")
	var resp *uint16
	if hr := winapi.HNSCall(method, path, empty, &resp); hr != nil {
		return EndpointStats{}, fmt.Errorf("get HNS endpoint stats %s: %w", id, hr)
	}
	out, err := parseHNSResponse([]byte(takeString(resp)))
	if err != nil {
		return EndpointStats{}, fmt.Errorf("get HNS endpoint stats %s: %w", id, err)
	}
	return ParseEndpointStats(out)
}

// vfpctrl is VFP's command-line tool, present where the vSwitch runs VFP;
// VFP has no other public interface to its port counters.
func vfpctrl(ctx context.Context, args ...string) (string, error) {
	exe := filepath.Join(os.Getenv("SystemRoot"), "System32", "vfpctrl.exe")
	out, err := exec.CommandContext(ctx, exe, args...).Output()
	if err != nil {
		return "", fmt.Errorf("run %s %v: %w", exe, args, err)
	}
	return string(out), nil
}
