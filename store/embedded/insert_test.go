package embedded_test

import (
	"context"
	"testing"
	"time"

	"github.com/ClickHouse/ch-go/proto"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/internal/testenv/chtest"
	"github.com/furrowdev/furrow/store"
)

// TestInsertFailsBeforePipeOpens repeats inserts the engine refuses before
// it opens the batch pipe (unknown table, unknown column): each must return
// the engine's error promptly and leave no writer behind. A blocking open
// of the pipe's write end used to hang here now and then.
func TestInsertFailsBeforePipeOpens(t *testing.T) {
	ctx := context.Background()
	s := chtest.Store(t)
	require.NoError(t, s.Exec(ctx, "CREATE TABLE t (n UInt32) ENGINE = MergeTree ORDER BY n"))
	var n proto.ColUInt32
	for i := 0; i < 100_000; i++ { // more than a pipe buffer
		n.Append(uint32(i))
	}
	cases := []struct {
		name, table, col string
	}{
		{"unknown table", "missing", "n"},
		{"unknown column", "t", "nope"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for i := 0; i < 50; i++ {
				done := make(chan error, 1)
				go func() {
					done <- s.Insert(ctx, c.table, store.Block{Columns: proto.Input{{Name: c.col, Data: &n}}}, "")
				}()
				select {
				case err := <-done:
					var se *store.Error
					require.ErrorAs(t, err, &se)
				case <-time.After(time.Minute):
					t.Fatalf("insert %d did not return", i)
				}
			}
		})
	}
	// The store still works afterwards.
	require.NoError(t, s.Insert(ctx, "t", store.Block{Columns: proto.Input{{Name: "n", Data: &n}}}, ""))
}
