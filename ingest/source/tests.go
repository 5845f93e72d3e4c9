//go:build !release

package source

import (
	"context"
	"sync"
)

// MemoryLedger is an in-memory Ledger for tests.
type MemoryLedger struct {
	mu   sync.Mutex
	done map[string]bool
}

// Done implements Ledger.
func (l *MemoryLedger) Done(_ context.Context, ids []string) (map[string]bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]bool)
	for _, id := range ids {
		if l.done[id] {
			out[id] = true
		}
	}
	return out, nil
}

// Mark records ids as ingested.
func (l *MemoryLedger) Mark(ids ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done == nil {
		l.done = make(map[string]bool)
	}
	for _, id := range ids {
		l.done[id] = true
	}
}
