package winapi

import "golang.org/x/sys/windows"

// InvalidProcessTraceHandle is what OpenTraceW returns on failure
// (INVALID_PROCESSTRACE_HANDLE).
const InvalidProcessTraceHandle = ^uint64(0)

// Constants of evntrace.h and evntcons.h.
const (
	WnodeFlagTracedGUID         = 0x00020000
	EventTraceRealTimeMode      = 0x00000100
	EventTraceControlQuery      = 0
	EventTraceControlStop       = 1
	EventControlCodeEnable      = 1
	ProcessTraceModeRealTime    = 0x00000100
	ProcessTraceModeEventRecord = 0x10000000
	WnodeClientContextQPC       = 1
	// LoggerNameChars is the room SessionProperties has for the name.
	LoggerNameChars = 1024
)

// WnodeHeader is WNODE_HEADER (48 bytes).
type WnodeHeader struct {
	BufferSize        uint32
	ProviderID        uint32
	HistoricalContext uint64
	TimeStamp         int64
	GUID              windows.GUID
	ClientContext     uint32
	Flags             uint32
}

// EventTraceProperties is EVENT_TRACE_PROPERTIES (120 bytes on 64-bit).
type EventTraceProperties struct {
	Wnode               WnodeHeader
	BufferSize          uint32 // KB
	MinimumBuffers      uint32
	MaximumBuffers      uint32
	MaximumFileSize     uint32
	LogFileMode         uint32
	FlushTimer          uint32 // seconds
	EnableFlags         uint32
	AgeLimit            int32
	NumberOfBuffers     uint32
	FreeBuffers         uint32
	EventsLost          uint32
	BuffersWritten      uint32
	LogBuffersLost      uint32
	RealTimeBuffersLost uint32
	LoggerThreadID      uintptr
	LogFileNameOffset   uint32
	LoggerNameOffset    uint32
}

// SessionProperties is EVENT_TRACE_PROPERTIES followed by the room the
// session's name is copied into, as StartTrace and ControlTrace want.
type SessionProperties struct {
	EventTraceProperties
	Name [LoggerNameChars]uint16
}

// EventTraceLogfile is EVENT_TRACE_LOGFILEW (448 bytes on 64-bit); the
// parts a real-time EVENT_RECORD consumer leaves to ETW are opaque.
type EventTraceLogfile struct {
	LogFileName         *uint16
	LoggerName          *uint16
	CurrentTime         int64
	BuffersRead         uint32
	ProcessTraceMode    uint32
	CurrentEvent        [88]byte  // EVENT_TRACE
	LogfileHeader       [280]byte // TRACE_LOGFILE_HEADER
	BufferCallback      uintptr
	BufferSize          uint32
	Filled              uint32
	EventsLost          uint32
	_                   uint32
	EventRecordCallback uintptr
	IsKernelTrace       uint32
	_                   uint32
	Context             uintptr
}

// EventRecord is EVENT_RECORD (112 bytes on 64-bit): the header is read as
// bytes by windows.ParseEventRecord, the user data through its pointer.
type EventRecord struct {
	Header            [80]byte // EVENT_HEADER
	BufferContext     uint32   // ETW_BUFFER_CONTEXT
	ExtendedDataCount uint16
	UserDataLength    uint16
	ExtendedData      uintptr
	UserData          *byte
	UserContext       uintptr
}
