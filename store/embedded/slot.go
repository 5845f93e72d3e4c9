package embedded

import (
	"context"
	"slices"
	"sync"
)

// slot is the engine's one seat: chDB runs one statement at a time per
// connection. Waiters are served in order, queries before inserts: a bulk
// insert holds the engine for a few hundred milliseconds, and a dashboard
// query that arrived meanwhile should wait for that one only, not for the
// next insert of the same ingest too (measured: without priority, a query
// of the SQL API, which takes the seat three times, waited behind two
// 65k-record inserts, 740 ms).
type slot struct {
	mu      sync.Mutex
	busy    bool
	queries []chan struct{}
	inserts []chan struct{}
}

// acquire takes the seat, or gives up when ctx ends first. insert marks a
// bulk insert, which lets waiting queries go first.
func (s *slot) acquire(ctx context.Context, insert bool) error {
	s.mu.Lock()
	if !s.busy && (insert && len(s.queries) == 0 && len(s.inserts) == 0 || !insert && len(s.queries) == 0) {
		s.busy = true
		s.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	if insert {
		s.inserts = append(s.inserts, ch)
	} else {
		s.queries = append(s.queries, ch)
	}
	s.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		q := &s.queries
		if insert {
			q = &s.inserts
		}
		if i := slices.Index(*q, ch); i >= 0 {
			*q = slices.Delete(*q, i, i+1)
			s.mu.Unlock()
			return ctx.Err()
		}
		s.mu.Unlock()
		// The seat was handed over just as ctx ended: pass it on.
		s.release()
		return ctx.Err()
	}
}

// release hands the seat to the first waiting query, else to the first
// waiting insert, else frees it.
func (s *slot) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	var next chan struct{}
	switch {
	case len(s.queries) > 0:
		next, s.queries = s.queries[0], s.queries[1:]
	case len(s.inserts) > 0:
		next, s.inserts = s.inserts[0], s.inserts[1:]
	default:
		s.busy = false
		return
	}
	close(next)
}
