package winapi

import (
	"fmt"

	"golang.org/x/sys/windows"
)

// A call into a DLL or procedure that is missing panics, and HNS's DLLs
// exist only where the Containers feature is installed: callers check the
// calls they need first.

// LoadETW reports whether advapi32 has the ETW calls.
func LoadETW() error {
	return find(procStartTraceW, procControlTraceW, procEnableTraceEx2, procOpenTraceW, procProcessTrace, procCloseTrace)
}

// LoadHNS reports whether computenetwork.dll and vmcompute.dll have the
// HNS calls.
func LoadHNS() error {
	return find(procHcnEnumerateEndpoints, procHcnOpenEndpoint, procHcnQueryEndpointProperties, procHcnCloseEndpoint, procHNSCall)
}

func find(procs ...*windows.LazyProc) error {
	for _, p := range procs {
		if err := p.Find(); err != nil {
			return fmt.Errorf("load %s: %w", p.Name, err)
		}
	}
	return nil
}
