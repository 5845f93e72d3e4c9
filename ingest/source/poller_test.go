package source

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/internal/testenv/miniotest"
)

func TestPollerS3(t *testing.T) {
	srv := miniotest.Shared(t)
	tree := fixtureTree()
	uploadTree(t, srv, "poll", tree)
	now := time.Date(2024, 6, 2, 13, 0, 0, 0, time.UTC)
	cfg := DefaultConfiguration()
	cfg.Prefixes = []string{"s3://poll/AWSLogs/", "s3://poll/hive/"}
	cfg.PollInterval = time.Second
	cfg.Lookback = 6 * time.Hour
	reg := prometheus.NewRegistry()
	ledger := &MemoryLedger{}
	p, err := NewPoller(cfg, PollerDependencies{
		Source: New(cfg, Dependencies{S3: srv.Client(t)}), Ledger: ledger, Registry: reg,
		Now: func() time.Time { return now },
	})
	require.NoError(t, err)

	got := make(chan Object, 100)
	ingest := func(_ context.Context, o Object) error {
		ledger.Mark(ID(o))
		got <- o
		return nil
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- p.Run(ctx, ingest) }()

	receive := func(n int) []string {
		t.Helper()
		var keys []string
		for range n {
			select {
			case o := <-got:
				keys = append(keys, o.Key)
			case <-time.After(10 * time.Second):
				t.Fatalf("got %d objects of %d: %v", len(keys), n, keys)
			}
		}
		return keys
	}
	w := Window{Since: now.Add(-cfg.Lookback)}
	first := append(expect(tree, "AWSLogs/", w), expect(tree, "hive/", w)...)
	require.Len(t, first, 4)
	require.ElementsMatch(t, first, receive(4))

	// A file delivered later is picked up by the next round, alone.
	late := fmt.Sprintf("AWSLogs/%s/vpcflowlogs/us-east-1/2024/06/02/%s_vpcflowlogs_us-east-1_%s_20240602T1255Z_feedbeef.log.gz", acct, acct, flowID)
	srv.PutObject(t, "poll", late, []byte("late"))
	require.Equal(t, []string{late}, receive(1))
	select {
	case o := <-got:
		t.Fatalf("ingested twice or out of window: %s", o.Key)
	case <-time.After(1500 * time.Millisecond): // at least one more round
	}
	cancel()
	require.NoError(t, <-done)

	require.Equal(t, 5.0, testutil.ToFloat64(p.m.newObjects.WithLabelValues("s3://poll/AWSLogs/"))+
		testutil.ToFloat64(p.m.newObjects.WithLabelValues("s3://poll/hive/")))
	require.GreaterOrEqual(t, testutil.ToFloat64(p.m.polls), 3.0)
	require.Zero(t, testutil.ToFloat64(p.m.listErrors.WithLabelValues("s3://poll/AWSLogs/")))
	n, err := testutil.GatherAndCount(reg, "furrow_source_objects_listed_total")
	require.NoError(t, err)
	require.Equal(t, 2, n)
}

type failingLedger struct{}

func (failingLedger) Done(context.Context, []string) (map[string]bool, error) {
	return nil, errors.New("clickhouse is down")
}

func TestPollerErrorsAreCounted(t *testing.T) {
	dir := t.TempDir()
	name := fmt.Sprintf("%s_vpcflowlogs_us-east-1_%s_%s_abcdef01.log.gz", acct, flowID, time.Now().UTC().Format("20060102T1504Z"))
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644))
	cfg := DefaultConfiguration()
	cfg.Prefixes = []string{dir, filepath.Join(dir, "missing")}
	p, err := NewPoller(cfg, PollerDependencies{Source: New(cfg, Dependencies{}), Ledger: failingLedger{}})
	require.NoError(t, err)
	err = p.PollOnce(t.Context(), func(context.Context, Object) error { return nil })
	require.ErrorIs(t, err, ErrNotFound)
	require.Equal(t, 1.0, testutil.ToFloat64(p.m.ledgerErrors))
	require.Equal(t, 1.0, testutil.ToFloat64(p.m.listErrors.WithLabelValues(cfg.Prefixes[1])))
	require.Equal(t, 1.0, testutil.ToFloat64(p.m.listed.WithLabelValues(dir)))

	// A failing ingest leaves the object to the next round.
	var l MemoryLedger
	p, err = NewPoller(cfg, PollerDependencies{Source: New(cfg, Dependencies{}), Ledger: &l})
	require.NoError(t, err)
	calls := 0
	ingest := func(_ context.Context, o Object) error {
		calls++
		if calls == 1 {
			return errors.New("insert failed")
		}
		l.Mark(ID(o))
		return nil
	}
	require.Error(t, p.PollOnce(t.Context(), ingest))
	_ = p.PollOnce(t.Context(), ingest)
	_ = p.PollOnce(t.Context(), ingest)
	require.Equal(t, 2, calls)
	require.Equal(t, 1.0, testutil.ToFloat64(p.m.emitErrors))
}
