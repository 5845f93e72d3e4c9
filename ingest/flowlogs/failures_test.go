package flowlogs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/ingest/ledger"
	sources "github.com/furrowdev/furrow/ingest/source"
)

// TestPermanentFailure: an object the table refuses (a constraint the
// rows violate, a permanent error) is read once, not retried, recorded as
// failed with its reason, counted, shown by the status, skipped by the
// poller and by later runs of the same version, and ingested again with
// RetryFailed, by another version, or once the object changes.
func TestPermanentFailure(t *testing.T) {
	gin.SetMode(gin.TestMode)
	ctx := context.Background()
	s := migrated(t)
	dir := t.TempDir()
	now := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	// An AWS key name with a time inside the poller's window.
	name := func(hash string) string {
		return fmt.Sprintf("123456789012_vpcflowlogs_us-east-1_fl-0123_%s_%s.log", now.Add(-10*time.Minute).Format("20060102T1504Z"), hash)
	}
	var w bytes.Buffer
	writeLines(&w, VersionFields(5), 3000, v5Value) // bytes 100…3099
	path := filepath.Join(dir, name("aaaa0001"))
	require.NoError(t, os.WriteFile(path, w.Bytes(), 0o644))

	refuse := func() {
		require.NoError(t, s.Exec(ctx, "ALTER TABLE flow_logs ADD CONSTRAINT small_bytes CHECK bytes < 1000"))
	}
	allow := func() { require.NoError(t, s.Exec(ctx, "ALTER TABLE flow_logs DROP CONSTRAINT small_bytes")) }
	refuse()

	reg := prometheus.NewRegistry()
	in := newTestIngester(t, s, Dependencies{Version: "v1", Registry: reg, Now: func() time.Time { return now }}, IngestOptions{})
	sum, err := in.Run(ctx, []string{dir}, sources.Window{})
	require.NoError(t, err)
	require.Equal(t, 1, sum.FailedFiles)
	f := sum.Files[0]
	require.True(t, f.Permanent, f.Error)
	require.Equal(t, 1, f.Attempts, "a permanent error is not retried")
	require.Contains(t, f.Error, "VIOLATED_CONSTRAINT")
	require.Equal(t, "0", queryTSV(t, s, "SELECT count() FROM flow_logs"))
	require.Equal(t, 1.0, testutil.ToFloat64(in.m.permanent))
	done, err := in.Ledger().Done(ctx, []string{f.ID})
	require.NoError(t, err)
	require.False(t, done[f.ID], "a failure never counts as done")

	// The status, through the API route.
	r := gin.New()
	in.Routes(r.Group("/api/v1"))
	status := func(query string) ledger.StatusReport {
		t.Helper()
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/ingest/status"+query, nil))
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var rep ledger.StatusReport
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &rep))
		return rep
	}
	rep := status("")
	require.Equal(t, "v1", rep.Version)
	require.EqualValues(t, 0, rep.Done)
	require.EqualValues(t, 1, rep.Failed)
	require.Len(t, rep.Objects, 1)
	o := rep.Objects[0]
	require.Equal(t, "failed", o.State)
	require.Equal(t, f.ID, o.ID)
	require.Contains(t, o.Reason, "VIOLATED_CONSTRAINT")
	require.True(t, o.Skipped)
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/ingest/status?state=nope", nil))
	require.Equal(t, http.StatusBadRequest, rec.Code)

	// The poller leaves it alone, and so does a later run.
	allow()
	cfg := sources.DefaultConfiguration()
	cfg.Prefixes = []string{dir}
	p, err := sources.NewPoller(cfg, sources.PollerDependencies{Source: in.deps.Source, Ledger: in.Ledger(), Failures: in.Ledger(),
		Now: func() time.Time { return now }})
	require.NoError(t, err)
	handed := 0
	require.NoError(t, p.PollOnce(ctx, func(context.Context, sources.Object) error { handed++; return nil }))
	require.Zero(t, handed, "the poller skips a permanent failure")
	sum, err = in.Run(ctx, []string{dir}, sources.Window{})
	require.NoError(t, err)
	require.Equal(t, 1, sum.SkippedFailed)
	require.Empty(t, sum.Files)
	require.True(t, sum.Failed(), "an object left failed fails the run")

	// RetryFailed forces it.
	retry := newTestIngester(t, s, Dependencies{Version: "v1", Now: func() time.Time { return now }}, IngestOptions{RetryFailed: true})
	sum, err = retry.Run(ctx, []string{dir}, sources.Window{})
	require.NoError(t, err)
	require.Equal(t, 1, sum.Ingested)
	require.Equal(t, "3000\t"+itoa(sumBytes(0, 3000)), queryTSV(t, s, "SELECT count(), sum(bytes) FROM flow_logs"))
	rep = status("?state=done")
	require.EqualValues(t, 1, rep.Done)
	require.EqualValues(t, 0, rep.Failed)
	require.Equal(t, "done", rep.Objects[0].State)
	require.EqualValues(t, 3000, rep.Objects[0].Stored)

	// Another object fails under v1; v2 tries it again.
	refuse()
	// Other content: identity is the content, and the first one is done.
	var w2 bytes.Buffer
	writeLines(&w2, VersionFields(5), 2999, v5Value)
	path2 := filepath.Join(dir, name("bbbb0002"))
	require.NoError(t, os.WriteFile(path2, w2.Bytes(), 0o644))
	sum, err = in.Run(ctx, []string{path2}, sources.Window{})
	require.NoError(t, err)
	require.Equal(t, 1, sum.FailedFiles)
	allow()
	sum, err = in.Run(ctx, []string{path2}, sources.Window{})
	require.NoError(t, err)
	require.Equal(t, 1, sum.SkippedFailed)
	v2 := newTestIngester(t, s, Dependencies{Version: "v2"}, IngestOptions{})
	sum, err = v2.Run(ctx, []string{path2}, sources.Window{})
	require.NoError(t, err)
	require.Equal(t, 1, sum.Ingested, "a new furrow version retries")

	// A third fails under v1, then changes: the new object is ingested.
	refuse()
	var w3 bytes.Buffer
	writeLines(&w3, VersionFields(5), 2998, v5Value)
	path3 := filepath.Join(dir, name("cccc0003"))
	require.NoError(t, os.WriteFile(path3, w3.Bytes(), 0o644))
	sum, err = in.Run(ctx, []string{path3}, sources.Window{})
	require.NoError(t, err)
	require.Equal(t, 1, sum.FailedFiles)
	allow()
	// Another copy of the same records: another size and sha256.
	changed := append(append([]byte(nil), w3.Bytes()...), "\n"...)
	require.NoError(t, os.WriteFile(path3, changed, 0o644))
	sum, err = in.Run(ctx, []string{path3}, sources.Window{})
	require.NoError(t, err)
	require.Equal(t, 1, sum.Ingested, "a changed object is a new object")
	require.Zero(t, sum.Rejected)
	require.Equal(t, "8997\t"+itoa(sumBytes(0, 3000)+sumBytes(0, 2999)+sumBytes(0, 2998)), queryTSV(t, s, "SELECT count(), sum(bytes) FROM flow_logs"))
	rep = status("?state=failed")
	require.EqualValues(t, 3, rep.Done)
	require.EqualValues(t, 1, rep.Failed, "the old identity of the changed object stays failed")
}

// TestCorruptGzipIsPermanent: a gzip stream whose data is corrupt fails
// permanently (the same bytes fail the same way).
func TestCorruptGzipIsPermanent(t *testing.T) {
	ctx := context.Background()
	s := migrated(t)
	var w bytes.Buffer
	writeLines(&w, VersionFields(5), 20000, v5Value)
	gz := gzipBytes(t, w.Bytes())
	for i := len(gz) / 2; i < len(gz)/2+64; i++ {
		gz[i] ^= 0x5a
	}
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "corrupt.log.gz"), gz, 0o644))
	in := newTestIngester(t, s, Dependencies{}, IngestOptions{})
	sum, err := in.Run(ctx, []string{dir}, sources.Window{})
	require.NoError(t, err)
	require.Equal(t, 1, sum.FailedFiles, "%+v", sum.Files)
	require.True(t, sum.Files[0].Permanent, sum.Files[0].Error)
	rep, err := in.Ledger().Status(ctx, "failed", 10)
	require.NoError(t, err)
	require.Len(t, rep.Objects, 1)
	require.Equal(t, ledger.DefaultVersion, rep.Objects[0].Version)
}
