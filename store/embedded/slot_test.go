package embedded

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSlotQueriesFirst: while the seat is busy, waiting queries are served
// before waiting inserts, each kind in arrival order.
func TestSlotQueriesFirst(t *testing.T) {
	var s slot
	ctx := context.Background()
	require.NoError(t, s.acquire(ctx, true))
	var mu sync.Mutex
	var order []string
	var wg sync.WaitGroup
	enqueue := func(name string, insert bool) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			require.NoError(t, s.acquire(ctx, insert))
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			s.release()
		}()
	}
	for n, w := range []struct {
		name   string
		insert bool
	}{{"insert1", true}, {"query1", false}, {"insert2", true}, {"query2", false}} {
		enqueue(w.name, w.insert)
		// Wait until it is queued, so that the arrival order is known.
		require.Eventually(t, func() bool {
			s.mu.Lock()
			defer s.mu.Unlock()
			return len(s.queries)+len(s.inserts) == n+1
		}, 5*time.Second, time.Millisecond)
	}
	s.release()
	wg.Wait()
	require.Equal(t, []string{"query1", "query2", "insert1", "insert2"}, order)
	require.False(t, s.busy)
}

// TestSlotCancelledWaiter: a waiter whose context ends leaves the queue, and
// the seat still goes to the next one.
func TestSlotCancelledWaiter(t *testing.T) {
	var s slot
	require.NoError(t, s.acquire(context.Background(), false))
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.acquire(ctx, false) }()
	require.Eventually(t, func() bool { s.mu.Lock(); defer s.mu.Unlock(); return len(s.queries) == 1 }, 5*time.Second, time.Millisecond)
	cancel()
	require.ErrorIs(t, <-errc, context.Canceled)
	got := make(chan struct{})
	go func() { require.NoError(t, s.acquire(context.Background(), true)); close(got) }()
	s.release()
	<-got
	s.release()
	require.False(t, s.busy)
}
