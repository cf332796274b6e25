package ringbuffer_test

import (
	"context"
	"fmt"

	"github.com/foveanet/fovea/ringbuffer"
)

func ExampleReader_Next() {
	type sample struct{ N, Square uint64 }
	r, err := ringbuffer.New[sample](3)
	if err != nil {
		panic(err)
	}
	for n := range uint64(5) {
		r.Write(&sample{N: n, Square: n * n})
	}
	// The ring keeps the newest three; a reader starting at 0 is told that
	// it lost two.
	rd := r.NewReader(0)
	var s sample
	for {
		seq, lost, err := rd.Next(context.Background(), &s, false)
		if err != nil {
			fmt.Println(err)
			break
		}
		fmt.Printf("seq %d lost %d: %d² = %d\n", seq, lost, s.N, s.Square)
	}
	// Output:
	// seq 2 lost 2: 2² = 4
	// seq 3 lost 0: 3² = 9
	// seq 4 lost 0: 4² = 16
	// ringbuffer: entry not written yet
}
