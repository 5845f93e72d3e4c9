package storetest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/store"
)

// failingQueries fail after part of their result was produced: the kinds of
// failure that once left their partial output behind for the next query on
// the embedded engine.
var failingQueries = []struct {
	name string
	run  func(ctx context.Context, s store.Store) error
}{
	{"row limit", func(ctx context.Context, s store.Store) error {
		return s.Query(ctx, io.Discard, "SELECT number + 7000000 FROM numbers(1100000)", "TSV",
			store.WithSettings(map[string]string{"max_result_rows": "1000000", "result_overflow_mode": "throw"}))
	}},
	{"throwIf mid-result", func(ctx context.Context, s store.Store) error {
		return s.Query(ctx, io.Discard, "SELECT throwIf(number = 300000), number FROM numbers(600000)", "TSV")
	}},
	{"throwIf with an output-format setting", func(ctx context.Context, s store.Store) error {
		return s.Query(ctx, io.Discard, "SELECT throwIf(number = 300000), number FROM numbers(600000)", "JSONEachRow",
			store.WithSettings(map[string]string{"output_format_json_quote_64bit_integers": "0"}))
	}},
	{"throwIf in Exec", func(ctx context.Context, s store.Store) error {
		return s.Exec(ctx, "SELECT throwIf(number = 300000), number FROM numbers(600000)")
	}},
	{"parse error", func(ctx context.Context, s store.Store) error {
		return s.Query(ctx, io.Discard, "SELEC 1", "TSV")
	}},
}

// testIsolation checks that a query only ever sees its own result: after
// queries that fail part-way through their output, alone and interleaved
// with many concurrent queries, each of which checks that it got exactly its
// own rows.
func testIsolation(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, f := range failingQueries {
		t.Run("after "+f.name, func(t *testing.T) {
			require.Error(t, f.run(ctx, s))
			require.Equal(t, "42\n", query(t, s, "SELECT 42", "TSV"))
			require.Equal(t, "{\"a\":43}\n", query(t, s, "SELECT 43 AS a", "JSONEachRow"))
		})
	}
	t.Run("concurrent", func(t *testing.T) {
		const goodQueries, badQueries, workers = 300, 30, 8
		type job struct {
			n   int
			bad bool
		}
		jobs := make(chan job)
		go func() {
			defer close(jobs)
			for i := range goodQueries + badQueries {
				// Spread the failures among the good queries.
				jobs <- job{n: i, bad: i%((goodQueries+badQueries)/badQueries) == 0}
			}
		}()
		var (
			mu       sync.Mutex
			problems []string
			good     int
		)
		report := func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			problems = append(problems, fmt.Sprintf(format, args...))
		}
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for j := range jobs {
					if j.bad {
						f := failingQueries[j.n%len(failingQueries)]
						if err := f.run(ctx, s); err == nil {
							report("%s: no error", f.name)
						}
						continue
					}
					// Two rows that only this query can produce.
					var out bytes.Buffer
					err := s.Query(ctx, &out, fmt.Sprintf("SELECT %d + number FROM numbers(2)", j.n*1000), "TSV")
					want := fmt.Sprintf("%d\n%d\n", j.n*1000, j.n*1000+1)
					switch {
					case err != nil:
						report("query %d: %v", j.n, err)
					case out.String() != want:
						got := out.String()
						if len(got) > 80 {
							got = got[:80] + "…"
						}
						report("query %d got %q, want %q", j.n, got, want)
					default:
						mu.Lock()
						good++
						mu.Unlock()
					}
				}
			})
		}
		wg.Wait()
		require.Empty(t, problems)
		require.Equal(t, goodQueries, good)
	})
}

// testAbandoned checks that a query whose caller gave up does not keep the
// engine: it is cancelled, and the next query runs long before the
// abandoned one would have finished.
func testAbandoned(t *testing.T, s store.Store) {
	// 100 blocks of one row, 0.2 s each: 20 s if it ran to the end.
	const slow = "SELECT sleepEachRow(0.2), number FROM numbers(100)"
	const wouldRun = 20 * time.Second
	ctx, cancel := context.WithCancel(context.Background())
	start := time.Now()
	errc := make(chan error, 1)
	go func() {
		errc <- s.Query(ctx, io.Discard, slow, "TSV", store.WithSettings(map[string]string{"max_block_size": "1"}))
	}()
	time.Sleep(500 * time.Millisecond)
	cancel()
	require.ErrorIs(t, <-errc, context.Canceled)
	require.Equal(t, "1\n", query(t, s, "SELECT 1", "TSV"))
	// Not a speed assertion: the slack is 20×, this only tells a cancelled
	// query from one that ran to its end behind the caller's back.
	require.Less(t, time.Since(start), wouldRun/2, "the abandoned query kept the engine until its end")
	require.False(t, strings.Contains(query(t, s, "SELECT 2", "TSV"), "\t"), "a later query saw the abandoned query's rows")
}
