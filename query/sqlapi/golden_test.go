package sqlapi

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// TestPlansGolden records what is sent to the engine for a few inputs, so a
// change in canonicalization or wrapping shows in review.
func TestPlansGolden(t *testing.T) {
	r, _ := newTestRunner(t, DefaultConfiguration())
	inputs := []string{
		"select a,s from t where a<{a:UInt32} -- comment\n order by a",
		"WITH 2 AS two SELECT a * two FROM t",
		"SELECT 1 UNION ALL SELECT 2",
		"SELECT ';' , 'SETTINGS readonly=0'",
		"show tables",
		"desc t",
		"exists t",
	}
	var b strings.Builder
	for _, in := range inputs {
		p, err := r.prepare(context.Background(), in, map[string]string{"a": "1"})
		require.NoError(t, err, in)
		fmt.Fprintf(&b, "input:     %s\ncanonical: %s\nsent:      %s\n\n", strings.ReplaceAll(in, "\n", `\n`), p.canonical, p.sql)
	}
	fmt.Fprintf(&b, "settings:  %v\n", DefaultConfiguration().settings())
	path := filepath.Join("testdata", "plans.golden")
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create it")
	require.Equal(t, string(want), b.String())
}
