package sqlapi

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/internal/testenv/chtest"
	"github.com/furrowdev/furrow/store"
)

// here is the caller's file:line, so a failing table case points at itself.
func here() string {
	_, file, line, _ := runtime.Caller(1)
	return fmt.Sprintf("%s:%d", filepath.Base(file), line)
}

// newTestRunner returns a Runner on a fresh database holding table t
// (a UInt32, s String) with ten rows.
func newTestRunner(t testing.TB, cfg Configuration) (*Runner, store.Store) {
	t.Helper()
	s := chtest.Store(t)
	ctx := context.Background()
	require.NoError(t, s.Exec(ctx, "CREATE TABLE t (a UInt32, s String) ENGINE = MergeTree ORDER BY a"))
	require.NoError(t, s.Exec(ctx, "INSERT INTO t SELECT number, toString(number) FROM numbers(10)"))
	return New(s, cfg), s
}
