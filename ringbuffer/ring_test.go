package ringbuffer_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/foveanet/fovea/model/record"
	"github.com/foveanet/fovea/ringbuffer"
)

// entry is record-sized; a consistent entry has every word equal to the
// sequence number it was written under.
type entry [14]uint64

func entryFor(seq uint64) entry {
	var e entry
	for i := range e {
		e[i] = seq
	}
	return e
}

// checkEntry reports a torn or misplaced entry.
func checkEntry(e *entry, seq uint64) error {
	for i, w := range e {
		if w != seq {
			return errors.New("word " + strconv.Itoa(i) + " = " + strconv.FormatUint(w, 10) + ", want " + strconv.FormatUint(seq, 10))
		}
	}
	return nil
}

func mustNew[T any](t testing.TB, capacity int) *ringbuffer.Ring[T] {
	t.Helper()
	r, err := ringbuffer.New[T](capacity)
	if err != nil {
		t.Fatalf("New(%d): %v", capacity, err)
	}
	return r
}

func TestNewCapacity(t *testing.T) {
	for _, c := range []int{1, 3, 7, 255, 65535, ringbuffer.MaxCapacity} {
		r := mustNew[entry](t, c)
		if r.Cap() != uint64(c) {
			t.Errorf("Cap() = %d, want %d", r.Cap(), c)
		}
	}
	for _, c := range []int{-1, 0, 2, 4, 6, 100, 65536, ringbuffer.MaxCapacity + 1, 1<<25 - 1} {
		_, err := ringbuffer.New[entry](c)
		if err == nil {
			t.Errorf("New(%d) succeeded, want an error", c)
			continue
		}
		if !strings.Contains(err.Error(), "capacity "+strconv.Itoa(c)+" ") {
			t.Errorf("New(%d) error %q does not name the value", c, err)
		}
	}
}

func TestNewElementType(t *testing.T) {
	if _, err := ringbuffer.New[record.Record](7); err != nil {
		t.Fatalf("New[record.Record]: %v", err)
	}
	type withPointer struct {
		A uint64
		B struct{ P *int }
	}
	type withString struct{ S string }
	type nested struct {
		N [2]struct {
			X uint64
			M []byte
		}
	}
	for name, tc := range map[string]struct {
		newRing func() error
		want    string
	}{
		"pointer":   {func() error { _, err := ringbuffer.New[withPointer](7); return err }, ".B.P (ptr)"},
		"string":    {func() error { _, err := ringbuffer.New[withString](7); return err }, ".S (string)"},
		"nested":    {func() error { _, err := ringbuffer.New[nested](7); return err }, ".N[].M (slice)"},
		"interface": {func() error { _, err := ringbuffer.New[any](7); return err }, "(interface)"},
		"odd size":  {func() error { _, err := ringbuffer.New[[12]byte](7); return err }, "[12]uint8 is 12 bytes"},
		"empty":     {func() error { _, err := ringbuffer.New[struct{}](7); return err }, "is 0 bytes"},
	} {
		err := tc.newRing()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", name, err, tc.want)
		}
	}
}

func TestEmptyRing(t *testing.T) {
	r := mustNew[entry](t, 7)
	if r.Len() != 0 || r.Head() != 0 || r.Tail() != 0 {
		t.Fatalf("empty ring: Len %d Head %d Tail %d", r.Len(), r.Head(), r.Tail())
	}
	var e entry
	if err := r.Read(0, &e); !errors.Is(err, ringbuffer.ErrNotWritten) {
		t.Fatalf("Read(0) on empty ring = %v, want ErrNotWritten", err)
	}
}

func TestWriteReadWraparound(t *testing.T) {
	for _, capacity := range []int{1, 3, 7} {
		r := mustNew[entry](t, capacity)
		c := uint64(capacity)
		for n := uint64(1); n <= 5*c+3; n++ {
			e := entryFor(n - 1)
			if seq := r.Write(&e); seq != n-1 {
				t.Fatalf("cap %d: Write #%d returned seq %d", c, n, seq)
			}
			wantLen := min(n, c)
			if r.Head() != n || r.Len() != wantLen || r.Tail() != n-wantLen {
				t.Fatalf("cap %d after %d writes: Head %d Len %d Tail %d", c, n, r.Head(), r.Len(), r.Tail())
			}
			for seq := uint64(0); seq < n+2; seq++ {
				var got entry
				err := r.Read(seq, &got)
				switch {
				case seq >= n:
					if !errors.Is(err, ringbuffer.ErrNotWritten) {
						t.Fatalf("cap %d: Read(%d) with head %d = %v, want ErrNotWritten", c, seq, n, err)
					}
				case seq < n-wantLen:
					if !errors.Is(err, ringbuffer.ErrOverwritten) {
						t.Fatalf("cap %d: Read(%d) with tail %d = %v, want ErrOverwritten", c, seq, n-wantLen, err)
					}
				default:
					if err != nil {
						t.Fatalf("cap %d: Read(%d) in [%d,%d): %v", c, seq, n-wantLen, n, err)
					}
					if err := checkEntry(&got, seq); err != nil {
						t.Fatalf("cap %d: Read(%d): %v", c, seq, err)
					}
				}
			}
		}
	}
}

func TestWriteDoesNotAllocate(t *testing.T) {
	r := mustNew[record.Record](t, 1023)
	rec := record.Record{Time: 1, SrcPort: 80, Proto: record.ProtoTCP}
	if n := testing.AllocsPerRun(10000, func() { r.Write(&rec) }); n != 0 {
		t.Fatalf("Write allocates %v times per call", n)
	}
	var dst record.Record
	if n := testing.AllocsPerRun(10000, func() { _ = r.Read(r.Head()-1, &dst) }); n != 0 {
		t.Fatalf("Read allocates %v times per call", n)
	}
}

// TestNext: nothing is overwritten while the ring has room; after that,
// Next is the entry the next Write replaces, one lap older than it.
func TestNext(t *testing.T) {
	r := mustNew[entry](t, 3)
	for seq := range uint64(10) {
		next := r.Next()
		switch {
		case seq <= 3 && next != nil:
			t.Fatalf("before write %d: Next = %v, want nil", seq, next[0])
		case seq > 3:
			if err := checkEntry(next, seq-4); err != nil {
				t.Fatalf("before write %d: %v", seq, err)
			}
		}
		e := entryFor(seq)
		r.Write(&e)
	}
}
