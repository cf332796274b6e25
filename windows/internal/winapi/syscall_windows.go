package winapi

// ETW controller and consumer calls (advapi32, evntrace.h). They return a
// Win32 error code, not a BOOL: ret is that code.
//sys	StartTrace(handle *uint64, name *uint16, props *SessionProperties) (ret error) = advapi32.StartTraceW
//sys	ControlTrace(handle uint64, name *uint16, props *SessionProperties, code uint32) (ret error) = advapi32.ControlTraceW
//sys	EnableTraceEx2(handle uint64, provider *windows.GUID, code uint32, level uint8, matchAny uint64, matchAll uint64, timeout uint32, params uintptr) (ret error) = advapi32.EnableTraceEx2
//sys	OpenTrace(logfile *EventTraceLogfile) (handle uint64, err error) [failretval==InvalidProcessTraceHandle] = advapi32.OpenTraceW
//sys	ProcessTrace(handles *uint64, count uint32, start uintptr, end uintptr) (ret error) = advapi32.ProcessTrace
//sys	CloseTrace(handle uint64) (ret error) = advapi32.CloseTrace

// HNS (computenetwork.h, schema 2): endpoints. They return an HRESULT and,
// on failure, a JSON error record allocated with CoTaskMemAlloc.
//sys	HcnEnumerateEndpoints(query *uint16, endpoints **uint16, result **uint16) (hr error) = computenetwork.HcnEnumerateEndpoints
//sys	HcnOpenEndpoint(id *windows.GUID, endpoint *uintptr, result **uint16) (hr error) = computenetwork.HcnOpenEndpoint
//sys	HcnQueryEndpointProperties(endpoint uintptr, query *uint16, properties **uint16, result **uint16) (hr error) = computenetwork.HcnQueryEndpointProperties
//sys	HcnCloseEndpoint(endpoint uintptr) (hr error) = computenetwork.HcnCloseEndpoint

// HNS v1 (vmcompute.dll): the endpoint statistics schema 2 lacks.
//sys	HNSCall(method *uint16, path *uint16, object *uint16, response **uint16) (hr error) = vmcompute.HNSCall
