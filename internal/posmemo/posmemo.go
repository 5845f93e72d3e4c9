// Package posmemo remembers a value per position of a table (a column's
// dictionary, an index's intervals) for one round of work, such as one
// block. Starting a round is O(1): entries are stamped with the round's
// number instead of being cleared, which matters on hot paths where a
// table has many more positions than a block uses.
package posmemo

// Memo holds a value per position. The zero value is ready: call Begin
// before each round.
type Memo[T any] struct {
	gen  uint32
	seen []uint32 // per position: gen when set in this round
	val  []T
}

// Begin starts a round over a table of n positions; nothing is
// remembered from earlier rounds.
func (m *Memo[T]) Begin(n int) {
	if len(m.seen) < n {
		m.seen = append(m.seen, make([]uint32, n-len(m.seen))...)
		m.val = append(m.val, make([]T, n-len(m.val))...)
	}
	m.gen++
	if m.gen == 0 { // wrapped: old stamps could match again
		clear(m.seen)
		m.gen = 1
	}
}

// Get returns the value set for position p in this round, if any.
func (m *Memo[T]) Get(p uint32) (T, bool) {
	if m.seen[p] == m.gen {
		return m.val[p], true
	}
	var zero T
	return zero, false
}

// Set remembers v for position p in this round.
func (m *Memo[T]) Set(p uint32, v T) {
	m.seen[p], m.val[p] = m.gen, v
}
