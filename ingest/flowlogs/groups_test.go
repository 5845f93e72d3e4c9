package flowlogs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	sources "github.com/furrowdev/furrow/ingest/source"
	"github.com/furrowdev/furrow/store"
)

// writeSmall writes n small objects of per records each (distinct
// content) into dir, starting at object first, and returns the records'
// sum(bytes).
func writeSmall(t *testing.T, dir string, first, n, per int) int64 {
	t.Helper()
	var total int64
	for k := first; k < first+n; k++ {
		var w bytes.Buffer
		writeLines(&w, VersionFields(5), per, func(i int, f string) string { return v5Value(k*per+i, f) })
		total += sumBytes(k*per, (k+1)*per)
		name := fmt.Sprintf("123456789012_vpcflowlogs_eu-west-1_fl-0123_20261102T%02d%02dZ_%08x.log.gz", k/12%24, k%12*5, k)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), gzipBytes(t, w.Bytes()), 0o644))
	}
	return total
}

func doneObjects(t *testing.T, s store.Store) string {
	return queryTSV(t, s, "SELECT count() FROM ingested_objects FINAL WHERE kind = 'flowlogs'")
}

// TestGroupSmallObjects: small objects go in one INSERT (one group), each
// is recorded, and a re-run skips them all.
func TestGroupSmallObjects(t *testing.T) {
	ctx := context.Background()
	s := migrated(t)
	dir := t.TempDir()
	want := writeSmall(t, dir, 0, 20, 500)
	in := newTestIngester(t, s, Dependencies{}, IngestOptions{})
	sum, err := in.Run(ctx, []string{dir}, sources.Window{})
	require.NoError(t, err)
	require.Equal(t, 20, sum.Ingested)
	require.EqualValues(t, 10000, sum.Stored)
	require.Equal(t, fmt.Sprintf("10000\t%d", want), queryTSV(t, s, "SELECT count(), sum(bytes) FROM flow_logs"))
	require.Equal(t, "1\t0", queryTSV(t, s, "SELECT uniqExact(ingest_group), countIf(ingest_group = '') FROM flow_logs"))
	require.Equal(t, "1", queryTSV(t, s, "SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'flow_logs' AND active"), "one part: all or nothing")
	require.Equal(t, "20", doneObjects(t, s))
	require.Equal(t, "10000", queryTSV(t, s, "SELECT sum(records) FROM flow_traffic_hourly"), "the rollup saw each record once")

	sum, err = in.Run(ctx, []string{dir}, sources.Window{})
	require.NoError(t, err)
	require.Equal(t, 20, sum.Skipped)
	require.Equal(t, "10000", queryTSV(t, s, "SELECT count() FROM flow_logs"))
}

// ledgerFailingStore fails the first insert of several objects into the
// ledger: a run that ends between a group's INSERT and its ledger rows.
type ledgerFailingStore struct {
	store.Store
	failed atomic.Bool
}

func (l *ledgerFailingStore) Exec(ctx context.Context, q string, opts ...store.Option) error {
	if strings.Contains(q, "INSERT INTO ingested_objects") && strings.Contains(q, "records_read") &&
		store.Apply(opts).Params["n"] != "1" && !l.failed.Swap(true) {
		return errors.New("simulated crash before the ledger rows")
	}
	return l.Store.Exec(ctx, q, opts...)
}

// TestGroupStoredNotRecorded: the group's rows are stored but its members
// not recorded; the next run, which lists one more object, records them
// without storing their rows again.
func TestGroupStoredNotRecorded(t *testing.T) {
	ctx := context.Background()
	s := migrated(t)
	dir := t.TempDir()
	want := writeSmall(t, dir, 0, 10, 400)
	crashing := newTestIngester(t, &ledgerFailingStore{Store: s}, Dependencies{}, IngestOptions{})
	sum, err := crashing.Run(ctx, []string{dir}, sources.Window{})
	require.NoError(t, err)
	require.Equal(t, 10, sum.FailedFiles, "the ledger failed: not done")
	require.Equal(t, "0", doneObjects(t, s))
	require.Equal(t, "4000", queryTSV(t, s, "SELECT count() FROM flow_logs"))

	want += writeSmall(t, dir, 10, 1, 400) // another run forms another group
	in := newTestIngester(t, s, Dependencies{}, IngestOptions{})
	sum, err = in.Run(ctx, []string{dir}, sources.Window{})
	require.NoError(t, err)
	require.Equal(t, 11, sum.Ingested)
	require.Zero(t, sum.FailedFiles)
	require.Equal(t, fmt.Sprintf("4400\t%d", want), queryTSV(t, s, "SELECT count(), sum(bytes) FROM flow_logs"))
	require.Equal(t, "11", doneObjects(t, s))
	require.Equal(t, "4400", queryTSV(t, s, "SELECT sum(records) FROM flow_traffic_hourly"))
}

// groupFailingStore fails the INSERT of groups: when cancel is set, by
// ending the run (a crash before the INSERT committed), otherwise with an
// error (the members then go one by one).
type groupFailingStore struct {
	store.Store
	cancel context.CancelFunc
}

func (g *groupFailingStore) InsertStream(ctx context.Context, table, token string, opts ...store.Option) (store.BlockStream, error) {
	st, err := g.Store.InsertStream(ctx, table, token, opts...)
	if err != nil || !strings.HasPrefix(token, "group:") {
		return st, err
	}
	return &failingClose{BlockStream: st, cancel: g.cancel}, nil
}

type failingClose struct {
	store.BlockStream
	cancel context.CancelFunc
}

func (f *failingClose) Close() error {
	f.Abort()
	if f.cancel != nil {
		f.cancel()
		return context.Canceled
	}
	return errors.New("simulated insert failure")
}

// TestGroupInsertFails: a group whose INSERT fails is stored object by
// object, once.
func TestGroupInsertFails(t *testing.T) {
	ctx := context.Background()
	s := migrated(t)
	dir := t.TempDir()
	want := writeSmall(t, dir, 0, 6, 300)
	in := newTestIngester(t, &groupFailingStore{Store: s}, Dependencies{}, IngestOptions{})
	sum, err := in.Run(ctx, []string{dir}, sources.Window{})
	require.NoError(t, err)
	require.Equal(t, 6, sum.Ingested)
	require.Equal(t, fmt.Sprintf("1800\t%d\t1800", want), queryTSV(t, s, "SELECT count(), sum(bytes), countIf(ingest_group = '') FROM flow_logs"))
	require.Equal(t, "6", doneObjects(t, s))
}

// TestGroupCrashBeforeInsert: a run ends after recording a group, before
// its INSERT committed; the next run forms another group (one more object)
// and stores each record once.
func TestGroupCrashBeforeInsert(t *testing.T) {
	s := migrated(t)
	dir := t.TempDir()
	want := writeSmall(t, dir, 0, 8, 250)
	ctx, cancel := context.WithCancel(context.Background())
	crashing := newTestIngester(t, &groupFailingStore{Store: s, cancel: cancel}, Dependencies{}, IngestOptions{})
	_, err := crashing.Run(ctx, []string{dir}, sources.Window{})
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, "0", queryTSV(t, s, "SELECT count() FROM flow_logs"))
	require.Equal(t, "1", queryTSV(t, s, "SELECT count() FROM ingested_objects WHERE kind = 'flowlogs-group'"), "the group was recorded")

	want += writeSmall(t, dir, 8, 1, 250)
	in := newTestIngester(t, s, Dependencies{}, IngestOptions{})
	sum, err := in.Run(context.Background(), []string{dir}, sources.Window{})
	require.NoError(t, err)
	require.Equal(t, 9, sum.Ingested)
	require.Equal(t, fmt.Sprintf("2250\t%d", want), queryTSV(t, s, "SELECT count(), sum(bytes) FROM flow_logs"))
	require.Equal(t, "9", doneObjects(t, s))
}

// TestPlanGroups: consecutive small objects form groups, bounded in count
// and bytes; large, Parquet and earlier-started objects go alone.
func TestPlanGroups(t *testing.T) {
	obj := func(name string, size int64) sources.Object {
		return sources.Object{URL: "/d/" + name, Size: size, ETag: name}
	}
	objs := []sources.Object{obj("a", 10), obj("b", 10), obj("big", smallObjectBytes+1), obj("c", 10), obj("d.parquet", 10), obj("e", 10), obj("f", 10)}
	earlier := map[string][]string{sources.ID(objs[6]): {"/d/f"}}
	var got []string
	for _, u := range planGroups(objs, earlier) {
		var names []string
		for _, o := range u.objs {
			names = append(names, filepath.Base(o.URL))
		}
		got = append(got, strings.Join(names, "+"))
	}
	require.Equal(t, []string{"a+b", "big", "c", "d.parquet", "e", "f"}, got)

	many := make([]sources.Object, groupMaxObjects+1)
	for k := range many {
		many[k] = obj(fmt.Sprint(k), 10)
	}
	units := planGroups(many, nil)
	require.Len(t, units, 2)
	require.Len(t, units[0].objs, groupMaxObjects)

	heavy := []sources.Object{obj("h1", smallObjectBytes), obj("h2", smallObjectBytes)}
	for k := 3; k <= 10; k++ {
		heavy = append(heavy, obj(fmt.Sprintf("h%d", k), smallObjectBytes))
	}
	for _, u := range planGroups(heavy, nil) {
		var b int64
		for _, o := range u.objs {
			b += o.Size
		}
		require.LessOrEqual(t, b, int64(groupMaxBytes))
	}
}

// viewLosingStore stores a group's INSERT without the rollup's
// materialized view (detached around it), as a SIGKILL between the
// table's part and the view's leaves it, and then fails the ledger rows.
type viewLosingStore struct {
	ledgerFailingStore
}

func (v *viewLosingStore) InsertStream(ctx context.Context, table, token string, opts ...store.Option) (store.BlockStream, error) {
	st, err := v.Store.InsertStream(ctx, table, token, opts...)
	if err != nil || !strings.HasPrefix(token, "group:") {
		return st, err
	}
	return &viewLosingStream{BlockStream: st, s: v.Store}, nil
}

type viewLosingStream struct {
	store.BlockStream
	s store.Store
}

func (v *viewLosingStream) Close() error {
	ctx := context.Background()
	if err := v.s.Exec(ctx, "DETACH TABLE flow_traffic_hourly_mv"); err != nil {
		return err
	}
	err := v.BlockStream.Close()
	return errors.Join(err, v.s.Exec(ctx, "ATTACH TABLE flow_traffic_hourly_mv"))
}

// TestGroupStoredWithoutRollup: a group's rows reached flow_logs but not
// the rollup, and its members were not recorded. The next run inserts the
// group again as it was: flow_logs keeps each row once (same token), and
// the rollup gets what it missed.
func TestGroupStoredWithoutRollup(t *testing.T) {
	ctx := context.Background()
	s := migrated(t)
	dir := t.TempDir()
	want := writeSmall(t, dir, 0, 6, 500)
	crashing := newTestIngester(t, &viewLosingStore{ledgerFailingStore{Store: s}}, Dependencies{}, IngestOptions{})
	_, err := crashing.Run(ctx, []string{dir}, sources.Window{})
	require.NoError(t, err)
	require.Equal(t, "3000\t0", queryTSV(t, s, "SELECT (SELECT count() FROM flow_logs), (SELECT sum(records) FROM flow_traffic_hourly)"))
	require.Equal(t, "0", doneObjects(t, s))

	in := newTestIngester(t, s, Dependencies{}, IngestOptions{})
	sum, err := in.Run(ctx, []string{dir}, sources.Window{})
	require.NoError(t, err)
	require.Equal(t, 6, sum.Ingested)
	require.Equal(t, fmt.Sprintf("3000\t%d\t3000\t3000", want),
		queryTSV(t, s, "SELECT (SELECT count() FROM flow_logs), (SELECT sum(bytes) FROM flow_logs), (SELECT sum(records) FROM flow_traffic_hourly), (SELECT sum(records) FROM flow_traffic_daily)"))
	require.Equal(t, "6", doneObjects(t, s))
}
