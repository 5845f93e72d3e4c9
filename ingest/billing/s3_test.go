package billing

import (
	"context"
	"net/http"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/internal/testenv/miniotest"
)

func TestMain(m *testing.M) { miniotest.Main(m) }

// TestS3Poller: a CUR 1.0 report in a real S3 store (MinIO), polled by the
// component: each period's newest assembly is loaded, its parts combined;
// the same manifests again change nothing and fetch no data file; a new
// assembly restates its period; the copies are removed.
func TestS3Poller(t *testing.T) {
	srv := miniotest.Shared(t)
	srv.MakeBucket(t, "bills")
	s := migrated(t)
	ctx := context.Background()
	nov := "cur/rep/20261101-20261201/"
	put := func(key, body string) { srv.PutObject(t, "bills", key, []byte(body)) }
	manifest := func(assembly string, keys ...string) string {
		return manifestJSONOf(t, map[string]any{"assemblyId": assembly, "billingPeriod": map[string]string{"start": "20261101T000000.000Z"}, "reportKeys": keys, "bucket": "bills"})
	}
	put(nov+"a1/rep-1.csv.gz", gz(t, curHead+curRow("2026-11", "2026-11-01", "1")))
	put(nov+"a1/rep-2.csv.gz", gz(t, curHead+curRow("2026-11", "2026-11-02", "2")))
	put(nov+"a1/rep-Manifest.json", manifest("a1", nov+"a1/rep-1.csv.gz", nov+"a1/rep-2.csv.gz"))
	put(nov+"rep-Manifest.json", manifest("a1", nov+"a1/rep-1.csv.gz", nov+"a1/rep-2.csv.gz"))

	tmp := t.TempDir()
	cfg := DefaultConfiguration()
	cfg.Prefixes = []string{"s3://bills/cur/rep"}
	reg := prometheus.NewRegistry()
	gets := &getCounter{}
	client := s3.New(srv.Client(t).Options(), func(o *s3.Options) { o.HTTPClient = gets })
	c, err := New(cfg, Dependencies{Store: s, S3: NewS3WithClient(client, tmp), Registry: reg, Version: "test"})
	require.NoError(t, err)

	reps := c.PollOnce(ctx)
	require.Len(t, reps, 1)
	require.False(t, reps[0].Skipped)
	require.Equal(t, "s3://bills/"+nov+"rep-Manifest.json", reps[0].Source)
	require.Equal(t, "s3://bills/"+nov+"a1/rep-1.csv.gz", reps[0].Files[0].Path)
	require.Equal(t, "2026-11-01\t3\t2", periodTotals(t, s))
	left, err := os.ReadDir(tmp)
	require.NoError(t, err)
	require.Empty(t, left, "the downloaded copies are removed")

	require.Equal(t, int64(4), gets.n.Swap(0), "two manifests, two parts")
	reps = c.PollOnce(ctx)
	require.Len(t, reps, 1)
	require.True(t, reps[0].Skipped, "the same assembly again changes nothing")
	require.Zero(t, gets.n.Load(), "nothing fetched again: manifests are cached, files of a loaded delivery not downloaded")
	require.Equal(t, 1.0, testutil.ToFloat64(c.m.deliveries.WithLabelValues("skipped")))

	// AWS restates the month: a new assembly, three parts, and the
	// period's manifest rewritten.
	time.Sleep(1100 * time.Millisecond) // LastModified has one-second resolution
	put(nov+"a2/rep-00001.csv.gz", gz(t, curHead+curRow("2026-11", "2026-11-01", "1.25")))
	put(nov+"a2/rep-00002.csv.gz", gz(t, curHead+curRow("2026-11", "2026-11-02", "2.25")))
	put(nov+"a2/rep-00003.csv.gz", gz(t, curHead+curRow("2026-11", "2026-11-03", "3.5")))
	m2 := manifest("a2", nov+"a2/rep-00001.csv.gz", nov+"a2/rep-00002.csv.gz", nov+"a2/rep-00003.csv.gz")
	put(nov+"a2/rep-Manifest.json", m2)
	put(nov+"rep-Manifest.json", m2)
	reps = c.PollOnce(ctx)
	require.Len(t, reps, 1)
	require.False(t, reps[0].Skipped)
	require.Len(t, reps[0].Files, 3)
	require.Equal(t, "2026-11-01\t7\t3", periodTotals(t, s), "the restated month replaces the old one")
	require.Equal(t, 2.0, testutil.ToFloat64(c.m.deliveries.WithLabelValues("loaded")))
	require.Equal(t, 5.0, testutil.ToFloat64(c.m.rows))

	// Start and Stop around a poll.
	require.NoError(t, c.Start(ctx))
	stopCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, c.Stop(stopCtx))
	require.Equal(t, "2026-11-01\t7\t3", periodTotals(t, s))
}

func TestConfigurationValidate(t *testing.T) {
	require.NoError(t, DefaultConfiguration().Validate())
	bad := Configuration{Prefixes: []string{"", "s3:///x"}, PollInterval: time.Millisecond}
	err := bad.Validate()
	require.ErrorContains(t, err, "prefixes: empty entry")
	require.ErrorContains(t, err, "has no bucket")
	require.ErrorContains(t, err, "poll_interval")
}

// getCounter counts GET requests of objects.
type getCounter struct{ n atomic.Int64 }

func (g *getCounter) Do(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodGet && req.URL.Query().Get("list-type") == "" {
		g.n.Add(1)
	}
	return http.DefaultClient.Do(req)
}
