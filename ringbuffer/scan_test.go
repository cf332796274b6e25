package ringbuffer

import (
	"sync"
	"testing"
)

func TestAllYieldsReadableEntriesOldestFirst(t *testing.T) {
	r, err := New[uint64](7)
	if err != nil {
		t.Fatal(err)
	}
	for range r.All() {
		t.Fatal("empty ring yielded an entry")
	}
	for i := uint64(0); i < 11; i++ {
		r.Write(&i)
	}
	want := uint64(4) // 11 written, 7 kept
	for seq, v := range r.All() {
		if seq != want || *v != want {
			t.Fatalf("got seq %d value %d, want %d", seq, *v, want)
		}
		want++
	}
	if want != 11 {
		t.Fatalf("scan ended before %d", want)
	}
	for seq := range r.All() {
		if seq != 4 {
			t.Fatalf("first seq %d", seq)
		}
		break
	}
}

// TestAllWhileWriting scans while the writer laps the ring: every entry
// yielded is intact and sequence numbers increase.
func TestAllWhileWriting(t *testing.T) {
	type entry struct{ a, b uint64 }
	r, err := New[entry](255)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := uint64(0); ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			r.Write(&entry{i, ^i})
		}
	}()
	for range 2000 {
		last := uint64(0)
		first := true
		for seq, v := range r.All() {
			if v.a != seq || v.b != ^seq || (!first && seq <= last) {
				t.Fatalf("seq %d after %d holds %+v", seq, last, *v)
			}
			last, first = seq, false
		}
	}
	close(stop)
	wg.Wait()
}
