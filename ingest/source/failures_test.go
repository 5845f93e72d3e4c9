package source

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

// failedSet is a Failures of fixed ids (the ClickHouse one is tested in
// ingest/flowlogs with the engine).
type failedSet map[string]bool

func (f failedSet) Failed(_ context.Context, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, id := range ids {
		if f[id] {
			out[id] = true
		}
	}
	return out, nil
}

type failingFailures struct{}

func (failingFailures) Failed(context.Context, []string) (map[string]bool, error) {
	return nil, errors.New("clickhouse is down")
}

// TestPollerSkipsPermanentFailures: an object recorded as failed is not
// handed to the ingest, and is counted; the others are.
func TestPollerSkipsPermanentFailures(t *testing.T) {
	dir := t.TempDir()
	stamp := time.Now().UTC().Format("20060102T1504Z")
	var paths []string
	for _, h := range []string{"aa000001", "bb000002"} {
		p := filepath.Join(dir, fmt.Sprintf("%s_vpcflowlogs_us-east-1_%s_%s_%s.log", acct, flowID, stamp, h))
		require.NoError(t, os.WriteFile(p, []byte(h), 0o644)) // distinct contents: identity is the content
		paths = append(paths, p)
	}
	cfg := DefaultConfiguration()
	cfg.Prefixes = []string{dir}
	src := New(cfg, Dependencies{})
	var objs []Object
	require.NoError(t, src.List(t.Context(), dir, Window{}, func(o Object) error { objs = append(objs, o); return nil }))
	require.Len(t, objs, 2)
	failed := failedSet{ID(objs[0]): true}

	p, err := NewPoller(cfg, PollerDependencies{Source: src, Ledger: &MemoryLedger{}, Failures: failed})
	require.NoError(t, err)
	var handed []string
	require.NoError(t, p.PollOnce(t.Context(), func(_ context.Context, o Object) error { handed = append(handed, o.URL); return nil }))
	require.Equal(t, []string{objs[1].URL}, handed)
	require.Equal(t, 1.0, testutil.ToFloat64(p.m.skipFailed.WithLabelValues(dir)))

	// Without the failures' answer, nothing is handed out (the round fails
	// and is retried), rather than retrying a permanent failure.
	p, err = NewPoller(cfg, PollerDependencies{Source: src, Ledger: &MemoryLedger{}, Failures: failingFailures{}})
	require.NoError(t, err)
	handed = nil
	require.Error(t, p.PollOnce(t.Context(), func(_ context.Context, o Object) error { handed = append(handed, o.URL); return nil }))
	require.Empty(t, handed)
	require.Equal(t, 1.0, testutil.ToFloat64(p.m.ledgerErrors))

	kept, n, err := FilterFailed(t.Context(), failed, objs)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, objs[1:], kept)
}
