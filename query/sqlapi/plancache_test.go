package sqlapi

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPlanCacheBoundedLRU(t *testing.T) {
	c := newPlanCache(2)
	c.put("a", plan{sql: "A"})
	c.put("b", plan{sql: "B"})
	_, _ = c.get("a") // a is now the most recent
	c.put("c", plan{sql: "C"})
	_, okB := c.get("b")
	pa, okA := c.get("a")
	require.False(t, okB, "the least recent plan is evicted")
	require.True(t, okA)
	require.Equal(t, "A", pa.sql)
}

func TestPlanKeyIncludesParams(t *testing.T) {
	require.NotEqual(t, planKey("SELECT * FROM {t:Identifier}", map[string]string{"t": "t"}),
		planKey("SELECT * FROM {t:Identifier}", map[string]string{"t": "system.processes"}))
	require.Equal(t, planKey("q", map[string]string{"a": "1", "b": "2"}), planKey("q", map[string]string{"b": "2", "a": "1"}))
}

// TestCachedPlanStillChecked: a parameter that names another table is
// checked anew, and a refused statement is refused every time.
func TestCachedPlanStillChecked(t *testing.T) {
	r, _ := newTestRunner(t, DefaultConfiguration())
	ctx := context.Background()
	q := "SELECT count() FROM {t:Identifier}"
	var out bytes.Buffer
	require.NoError(t, r.Run(ctx, &out, q, TSV, map[string]string{"t": "t"}))
	require.Equal(t, "10\n", out.String())
	out.Reset()
	require.NoError(t, r.Run(ctx, &out, q, TSV, map[string]string{"t": "t"}))
	require.Equal(t, "10\n", out.String(), "the cached plan runs the same")
	for range 2 {
		require.Error(t, r.Run(ctx, &out, "DROP TABLE t", TSV, nil))
	}
}
