package winapi

import (
	"testing"
	"unsafe"
)

// The structures must match the 64-bit Windows layouts byte for byte:
// ETW reads and writes them through the pointers it is given.
func TestLayouts(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the layouts are those of 64-bit Windows")
	}
	var p SessionProperties
	var l EventTraceLogfile
	var r EventRecord
	for _, c := range []struct {
		what      string
		got, want uintptr
	}{
		{"sizeof(WNODE_HEADER)", unsafe.Sizeof(WnodeHeader{}), 48},
		{"sizeof(EVENT_TRACE_PROPERTIES)", unsafe.Sizeof(EventTraceProperties{}), 120},
		{"EVENT_TRACE_PROPERTIES.LogFileMode", unsafe.Offsetof(p.LogFileMode), 64},
		{"EVENT_TRACE_PROPERTIES.EventsLost", unsafe.Offsetof(p.EventsLost), 88},
		{"EVENT_TRACE_PROPERTIES.RealTimeBuffersLost", unsafe.Offsetof(p.RealTimeBuffersLost), 100},
		{"EVENT_TRACE_PROPERTIES.LoggerNameOffset", unsafe.Offsetof(p.LoggerNameOffset), 116},
		{"the name after EVENT_TRACE_PROPERTIES", unsafe.Offsetof(p.Name), 120},
		{"sizeof(EVENT_TRACE_LOGFILEW)", unsafe.Sizeof(l), 448},
		{"EVENT_TRACE_LOGFILEW.ProcessTraceMode", unsafe.Offsetof(l.ProcessTraceMode), 28},
		{"EVENT_TRACE_LOGFILEW.BufferCallback", unsafe.Offsetof(l.BufferCallback), 400},
		{"EVENT_TRACE_LOGFILEW.EventRecordCallback", unsafe.Offsetof(l.EventRecordCallback), 424},
		{"EVENT_TRACE_LOGFILEW.Context", unsafe.Offsetof(l.Context), 440},
		{"sizeof(EVENT_RECORD)", unsafe.Sizeof(r), 112},
		{"EVENT_RECORD.UserDataLength", unsafe.Offsetof(r.UserDataLength), 86},
		{"EVENT_RECORD.UserData", unsafe.Offsetof(r.UserData), 96},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.what, c.got, c.want)
		}
	}
}
