package ringbuffer_test

import (
	"context"
	"errors"
	"testing"

	"github.com/foveanet/fovea/ringbuffer"
)

func writeN(r *ringbuffer.Ring[entry], n int) {
	for range n {
		e := entryFor(r.Head())
		r.Write(&e)
	}
}

// next calls rd.Next without following and checks the entry it returns.
func next(t *testing.T, rd *ringbuffer.Reader[entry]) (seq, lost uint64, err error) {
	t.Helper()
	var e entry
	seq, lost, err = rd.Next(context.Background(), &e, false)
	if err == nil {
		if cerr := checkEntry(&e, seq); cerr != nil {
			t.Fatalf("Next returned seq %d: %v", seq, cerr)
		}
	}
	return seq, lost, err
}

func TestReaderReadsInOrderAndStopsAtHead(t *testing.T) {
	r := mustNew[entry](t, 7)
	writeN(r, 5)
	rd := r.NewReader(0)
	for want := uint64(0); want < 5; want++ {
		seq, lost, err := next(t, rd)
		if err != nil || seq != want || lost != 0 {
			t.Fatalf("Next = %d, %d, %v; want %d, 0, nil", seq, lost, err, want)
		}
	}
	if _, _, err := next(t, rd); !errors.Is(err, ringbuffer.ErrNotWritten) {
		t.Fatalf("Next at head = %v, want ErrNotWritten", err)
	}
	writeN(r, 1)
	if seq, lost, err := next(t, rd); err != nil || seq != 5 || lost != 0 {
		t.Fatalf("Next after write = %d, %d, %v; want 5, 0, nil", seq, lost, err)
	}
}

func TestReaderReportsExactLoss(t *testing.T) {
	r := mustNew[entry](t, 7)
	writeN(r, 5)
	rd := r.NewReader(0)
	for range 2 {
		if _, _, err := next(t, rd); err != nil {
			t.Fatal(err)
		}
	}
	writeN(r, 20) // head 25, tail 18: entries 2..17 are gone
	seq, lost, err := next(t, rd)
	if err != nil || seq != 18 || lost != 16 {
		t.Fatalf("Next after overtaking = %d, %d, %v; want 18, 16, nil", seq, lost, err)
	}
	for want := uint64(19); want < 25; want++ {
		if seq, lost, err := next(t, rd); err != nil || seq != want || lost != 0 {
			t.Fatalf("Next = %d, %d, %v; want %d, 0, nil", seq, lost, err, want)
		}
	}
}

func TestReaderStartingBeforeTail(t *testing.T) {
	r := mustNew[entry](t, 3)
	writeN(r, 10) // tail 7
	seq, lost, err := next(t, r.NewReader(2))
	if err != nil || seq != 7 || lost != 5 {
		t.Fatalf("Next = %d, %d, %v; want 7, 5, nil", seq, lost, err)
	}
}

func TestReaderStartingAfterHead(t *testing.T) {
	r := mustNew[entry](t, 7)
	writeN(r, 2)
	rd := r.NewReader(4)
	for r.Head() <= 4 {
		if _, _, err := next(t, rd); !errors.Is(err, ringbuffer.ErrNotWritten) {
			t.Fatalf("Next before seq 4 is written = %v, want ErrNotWritten", err)
		}
		writeN(r, 1)
	}
	if seq, lost, err := next(t, rd); err != nil || seq != 4 || lost != 0 {
		t.Fatalf("Next = %d, %d, %v; want 4, 0, nil", seq, lost, err)
	}
}
