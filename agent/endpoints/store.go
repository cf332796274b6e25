package endpoints

import "sync/atomic"

// Store holds the current Index. Writers replace it whole; readers load it
// with one atomic read and never block.
type Store struct {
	cur atomic.Pointer[Index]
}

// NewStore returns a store holding the Empty index.
func NewStore() *Store {
	s := &Store{}
	s.cur.Store(Empty)
	return s
}

// Load returns the current index.
func (s *Store) Load() *Index { return s.cur.Load() }

// Replace makes ix the current index.
func (s *Store) Replace(ix *Index) { s.cur.Store(ix) }
