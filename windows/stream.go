package windows

import (
	"encoding/binary"
	"fmt"
)

// A stream is events one after another, each an EVENT_RECORD (its pointers
// zero: a stream has no addresses) followed by its UserDataLength bytes of
// user data: what the fixtures under testdata/ hold, and what a replay
// feeds the decoder in place of a live session.

// ReadStream calls fn with each event of stream in order, and fails on a
// record cut short. Events' UserData alias stream.
func ReadStream(stream []byte, fn func(Event) error) error {
	for off := 0; off < len(stream); {
		if len(stream)-off < EventRecordSize {
			return fmt.Errorf("read event stream: %d bytes at offset %d, shorter than an EVENT_RECORD", len(stream)-off, off)
		}
		rec := stream[off : off+EventRecordSize]
		n := int(binary.LittleEndian.Uint16(rec[offUserDataLength:]))
		end := off + EventRecordSize + n
		if end > len(stream) {
			return fmt.Errorf("read event stream: record at offset %d has UserDataLength %d past the end", off, n)
		}
		ev, err := ParseEventRecord(rec, stream[off+EventRecordSize:end])
		if err != nil {
			return fmt.Errorf("read event stream at offset %d: %w", off, err)
		}
		if err := fn(ev); err != nil {
			return err
		}
		off = end
	}
	return nil
}
