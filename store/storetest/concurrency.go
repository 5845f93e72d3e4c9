package storetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/ch-go/proto"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/store"
)

func testConcurrent(t *testing.T, s store.Store) {
	const workers, rounds = 8, 5
	ctx := context.Background()
	createTable(t, s, "conc", "worker UInt32, round UInt32, via String", "(worker, round, via)")

	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds*3)
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				// Every row differs: identical blocks would be deduplicated.
				errs <- s.Exec(ctx, fmt.Sprintf("INSERT INTO conc VALUES (%d, %d, 'exec')", w, r))
				id, round, via := proto.ColUInt32{uint32(w)}, proto.ColUInt32{uint32(r)}, new(proto.ColStr)
				via.Append("insert")
				errs <- s.Insert(ctx, "conc", store.Block{Columns: proto.Input{
					{Name: "worker", Data: &id}, {Name: "round", Data: &round}, {Name: "via", Data: via},
				}}, "")
				errs <- s.Query(ctx, io.Discard, "SELECT via, count() FROM conc GROUP BY via", "JSONEachRow")
			}
		})
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	require.NoError(t, errors.Join(all...))
	want := fmt.Sprintf("exec\t%d\ninsert\t%d\n", workers*rounds, workers*rounds)
	require.Equal(t, want, query(t, s, "SELECT via, count() FROM conc GROUP BY via ORDER BY via", "TSV"))
}

// slowQuery runs for 3 s: sleepEachRow allows at most 3 s per block, which
// bounds the work a backend that cannot cancel leaves behind.
const slowQuery = "SELECT sleepEachRow(0.5) FROM numbers(6)"

func testCancel(t *testing.T, s store.Store) {
	createTable(t, s, "cancel", "v UInt8", "v")
	ops := []struct {
		name string
		run  func(ctx context.Context) error
	}{
		{"Query", func(ctx context.Context) error { return s.Query(ctx, io.Discard, slowQuery, "TSV") }},
		{"Exec", func(ctx context.Context) error { return s.Exec(ctx, "INSERT INTO cancel "+slowQuery) }},
	}
	for _, op := range ops {
		t.Run(op.name+"/already cancelled", func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			require.ErrorIs(t, op.run(ctx), context.Canceled)
		})
		t.Run(op.name+"/cancelled while running", func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(100*time.Millisecond, cancel)
			require.ErrorIs(t, op.run(ctx), context.Canceled)
		})
	}
	// The store is still usable.
	require.Equal(t, "1\n", query(t, s, "SELECT 1", "TSV"))
}
