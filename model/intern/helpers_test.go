package intern

import "sync"

// readConcurrently runs n goroutines that call read again and again until
// it returns false or the returned stop is called; stop waits for them.
func readConcurrently(n int, read func() bool) (stop func()) {
	var wg sync.WaitGroup
	done := make(chan struct{})
	for range n {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if !read() {
					return
				}
			}
		})
	}
	return func() {
		close(done)
		wg.Wait()
	}
}

// lookup returns the Ref stored under key, if any.
func (t *Table[T]) lookup(key string) (Ref, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	ref, ok := t.index[key]
	return ref, ok
}
