package relay

// item is a response waiting in the merge.
type item struct {
	// msg is what is sent: a *rawResponse from a node.
	msg any
	// at is the response's time (Unix ns); due is when it is sent even if
	// some node might still deliver an older one; seq keeps arrival order
	// for ties.
	at, due int64
	seq     uint64
}

func (it *item) before(o *item) bool {
	if it.at != o.at {
		return it.at < o.at
	}
	return it.seq < o.seq
}

// order holds one node call's buffered responses oldest first. A node's
// stream is nearly in time order already, so an insertion from the back
// costs next to nothing.
type order struct {
	buf  []item
	head int // buf[:head] is sent
}

func (o *order) len() int { return len(o.buf) - o.head }

func (o *order) front() *item { return &o.buf[o.head] }

// insert adds it in order and says whether it is now the oldest.
func (o *order) insert(it item) bool {
	if o.head > 0 && len(o.buf) == cap(o.buf) {
		n := copy(o.buf, o.buf[o.head:])
		clear(o.buf[n:])
		o.buf, o.head = o.buf[:n], 0
	}
	o.buf = append(o.buf, it)
	i := len(o.buf) - 1
	for i > o.head && it.before(&o.buf[i-1]) {
		o.buf[i] = o.buf[i-1]
		i--
	}
	o.buf[i] = it
	return i == o.head
}

// pop removes and returns the oldest response.
func (o *order) pop() item {
	it := o.buf[o.head]
	o.buf[o.head] = item{}
	o.head++
	if o.head == len(o.buf) {
		o.buf, o.head = o.buf[:0], 0
	}
	return it
}

// callHeap orders the calls with buffered responses by their oldest one, so
// that the merge compares node heads (a k-way merge) rather than every
// buffered response.
type callHeap []*callQueue

func (h callHeap) less(i, j int) bool { return h[i].front().before(h[j].front()) }

func (h callHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx, h[j].idx = i, j
}

func (h *callHeap) push(q *callQueue) {
	q.idx = len(*h)
	*h = append(*h, q)
	h.up(q.idx)
}

// removeTop takes the first call out of the heap.
func (h *callHeap) removeTop() {
	q := *h
	n := len(q) - 1
	q.swap(0, n)
	q[n].idx = -1
	q[n] = nil
	*h = q[:n]
	h.down(0)
}

func (h callHeap) up(j int) {
	for j > 0 {
		i := (j - 1) / 2
		if !h.less(j, i) {
			return
		}
		h.swap(i, j)
		j = i
	}
}

func (h callHeap) down(i int) {
	n := len(h)
	for {
		j := 2*i + 1
		if j >= n {
			return
		}
		if r := j + 1; r < n && h.less(r, j) {
			j = r
		}
		if !h.less(j, i) {
			return
		}
		h.swap(i, j)
		i = j
	}
}
