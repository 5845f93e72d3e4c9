package usage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/prometheus/storage/remote"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/store"
)

// faultyStore is the real store with its inserts failing on demand: before
// storing (the engine down) or after storing (the answer lost, as when the
// sender's timeout cuts the request while the engine finishes it).
type faultyStore struct {
	store.Store
	failBefore, failAfter atomic.Int32 // how many inserts fail so
}

var errInjected = errors.New("injected failure")

func (f *faultyStore) Insert(ctx context.Context, table string, b store.Block, token string) error {
	if f.failBefore.Add(-1) >= 0 {
		return errInjected
	}
	if err := f.Store.Insert(ctx, table, b, token); err != nil {
		return err
	}
	if f.failAfter.Add(-1) >= 0 {
		return errInjected
	}
	return nil
}

// TestRetriesNeverDoubleCount: whatever happened to a request, sending it
// again leaves the rows of one copy.
func TestRetriesNeverDoubleCount(t *testing.T) {
	s := migratedStore(t)
	first := func(cl string) []ts {
		return []ts{
			cpu(cl, "shop", "web-1", "app", pt{at(10, 0, 0, 0), 100}, pt{at(10, 0, 30, 0), 130}),
			mem(cl, "shop", "web-1", "app", pt{at(10, 0, 0, 0), 100e6}, pt{at(10, 0, 30, 0), 120e6}),
		}
	}
	second := func(cl string) []ts {
		return []ts{
			cpu(cl, "shop", "web-1", "app", pt{at(10, 1, 0, 0), 160}),
			mem(cl, "shop", "web-1", "app", pt{at(10, 1, 0, 0), 110e6}),
		}
	}
	const want = "shop\tweb-1\t2026-11-02 10:00:00\t60\t110000000\n"
	cases := []struct {
		name                  string
		failBefore, failAfter int32
	}{
		{"stored and acknowledged, sent again anyway", 0, 0},
		{"store down: 5xx, then stored on the retry", 1, 0},
		{"stored but answered 5xx: the retry is deduplicated", 0, 1},
		{"stored twice but answered 5xx twice", 0, 2},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cl := "retry" + string(rune('a'+i))
			fs := &faultyStore{Store: s}
			e := newEnv(t, fs, DefaultConfiguration())
			for _, req := range [][]ts{first(cl), second(cl)} {
				fs.failBefore.Store(tc.failBefore)
				fs.failAfter.Store(tc.failAfter)
				body := encodeV1(t, req)
				fails := int(tc.failBefore + tc.failAfter)
				for attempt := 0; ; attempt++ {
					_, err := e.v1.Store(context.Background(), body, attempt)
					if attempt < fails {
						var rec remote.RecoverableError
						require.ErrorAs(t, err, &rec, "a failed store is a 5xx the sender retries")
						continue
					}
					require.NoError(t, err)
					break
				}
				if tc.failBefore+tc.failAfter == 0 {
					// Sent again after a 204: every sample is a duplicate.
					_, err := e.v1.Store(context.Background(), body, 1)
					require.NoError(t, err)
				}
			}
			require.Equal(t, want, usageRows(t, s, cl))
			require.Equal(t, float64(tc.failBefore+tc.failAfter)*2, testutil.ToFloat64(e.c.metrics.insertErrors))
		})
	}
}

// TestRefusedRequests: requests that can never be stored are answered 4xx
// (not retried) and leave nothing behind; the neighbours still load.
func TestRefusedRequests(t *testing.T) {
	s := migratedStore(t)
	cfg := DefaultConfiguration()
	cfg.MaxBodyBytes = 4 << 10
	cfg.MaxDecodedBytes = 16 << 10
	e := newEnv(t, s, cfg)
	good := encodeV1(t, []ts{cpu("refused", "shop", "web-1", "app", pt{at(10, 0, 0, 0), 1}, pt{at(10, 0, 30, 0), 3})})
	raw, err := snappy.Decode(nil, good)
	require.NoError(t, err)
	big := make([]byte, 5<<10)
	bomb := snappy.Encode(nil, make([]byte, 40<<10)) // 40 KiB of zeros in about 2 KiB
	require.Less(t, len(bomb), 4<<10, "the bomb must pass the compressed limit")
	badRef := []byte{0x2a, 0x04, 0x0a, 0x02, 0x08, 0x07} // v2: a series referring to symbol 8 of none
	cases := []struct {
		name        string
		contentType string
		encoding    string
		body        []byte
		chunked     bool
		want        int
		reason      string
	}{
		{"not snappy", "application/x-protobuf", "snappy", []byte("hello, this is not snappy"), false, 400, refusedNotSnappy},
		{"snappy of a truncated message", "application/x-protobuf", "snappy", snappy.Encode(nil, raw[:len(raw)-3]), false, 400, refusedNotProtobuf},
		{"snappy of garbage", "application/x-protobuf", "snappy", snappy.Encode(nil, []byte{0xff, 0xff, 0xff, 0xff, 0xff}), false, 400, refusedNotProtobuf},
		{"v2 label reference out of the symbols", "application/x-protobuf;proto=io.prometheus.write.v2.Request", "snappy", snappy.Encode(nil, badRef), false, 400, refusedInvalid},
		{"too large, announced", "application/x-protobuf", "snappy", big, false, 413, refusedTooLarge},
		{"too large, chunked", "application/x-protobuf", "snappy", big, true, 413, refusedTooLarge},
		{"too large once uncompressed", "application/x-protobuf", "snappy", bomb, false, 413, refusedTooLarge},
		{"JSON", "application/json", "", []byte("{}"), false, 415, refusedMediaType},
		{"unknown protobuf message", "application/x-protobuf;proto=io.prometheus.write.v3.Request", "snappy", good, false, 415, refusedMediaType},
		{"gzip", "application/x-protobuf", "gzip", good, false, 415, refusedEncoding},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := testutil.ToFloat64(e.c.metrics.refused.WithLabelValues(tc.reason))
			req, err := http.NewRequest(http.MethodPost, e.url, bytes.NewReader(tc.body))
			require.NoError(t, err)
			if tc.chunked {
				// No length: the client sends it chunked.
				req.ContentLength = -1
				req.Body = io.NopCloser(bytes.NewReader(tc.body))
			}
			req.Header.Set("Content-Type", tc.contentType)
			if tc.encoding != "" {
				req.Header.Set("Content-Encoding", tc.encoding)
			}
			req.Header.Set(headerVersion, headerVersionV1)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			msg, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Equal(t, tc.want, resp.StatusCode, string(msg))
			require.Equal(t, before+1, testutil.ToFloat64(e.c.metrics.refused.WithLabelValues(tc.reason)))
		})
	}
	// Nothing of them was stored; the good request still is.
	require.Equal(t, "", usageRows(t, s, "refused"))
	_, err = e.v1.Store(context.Background(), good, 0)
	require.NoError(t, err)
	require.Equal(t, "shop\tweb-1\t2026-11-02 10:00:00\t2\t0\n", usageRows(t, s, "refused"))
}

// TestEviction: a series unseen for series_ttl is forgotten; its next
// sample starts it again and gives no increase.
func TestEviction(t *testing.T) {
	s := migratedStore(t)
	e := newEnv(t, s, DefaultConfiguration())
	_, err := e.send(t, 1, []ts{cpu("evict", "shop", "web-1", "app", pt{at(10, 0, 0, 0), 100}, pt{at(10, 0, 30, 0), 110})})
	require.NoError(t, err)
	require.Equal(t, 1.0, testutil.ToFloat64(e.c.metrics.seriesTracked))

	require.Zero(t, e.c.evictLocked(now.Add(59*time.Minute)), "seen within the TTL")
	require.Equal(t, 1, e.c.evictLocked(now.Add(61*time.Minute)))
	require.Equal(t, 0.0, testutil.ToFloat64(e.c.metrics.seriesTracked))
	require.Empty(t, e.c.st.pods)

	_, err = e.send(t, 1, []ts{cpu("evict", "shop", "web-1", "app", pt{at(10, 1, 0, 0), 130})})
	require.NoError(t, err)
	require.Equal(t, "shop\tweb-1\t2026-11-02 10:00:00\t10\t0\n", usageRows(t, s, "evict"), "no increase from an evicted series")
	require.Equal(t, 2.0, testutil.ToFloat64(e.c.metrics.counterStarts))
}

// TestSeriesLimit: beyond max_series, new series are dropped and counted;
// known ones go on.
func TestSeriesLimit(t *testing.T) {
	s := migratedStore(t)
	cfg := DefaultConfiguration()
	cfg.MaxSeries = 1
	e := newEnv(t, s, cfg)
	_, err := e.send(t, 1, []ts{
		cpu("limit", "shop", "web-1", "app", pt{at(10, 0, 0, 0), 100}, pt{at(10, 0, 30, 0), 110}),
		cpu("limit", "shop", "web-2", "app", pt{at(10, 0, 0, 0), 100}, pt{at(10, 0, 30, 0), 110}),
	})
	require.NoError(t, err)
	require.Equal(t, "shop\tweb-1\t2026-11-02 10:00:00\t10\t0\n", usageRows(t, s, "limit"))
	require.Equal(t, 1.0, testutil.ToFloat64(e.c.metrics.seriesDropped.WithLabelValues(reasonSeriesLimit)))
}

// TestLifecycle: Start and Stop, and Stop before Start.
func TestLifecycle(t *testing.T) {
	c, err := New(DefaultConfiguration(), Dependencies{Store: migratedStore(t), Registry: prometheus.NewRegistry()})
	require.NoError(t, err)
	require.NoError(t, c.Stop(context.Background()))
	require.NoError(t, c.Start(context.Background()))
	require.Error(t, c.Start(context.Background()))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, c.Stop(ctx))
}

// TestConcurrentShards: as Prometheus does, several connections (shards)
// send disjoint sets of series at once, the containers of a pod on
// different shards; every pod gets all of its CPU and the mean of its
// containers' total working set.
func TestConcurrentShards(t *testing.T) {
	s := migratedStore(t)
	e := newEnv(t, s, DefaultConfiguration())
	const shards, pods, scrapes = 4, 40, 10
	errs := make(chan error, shards)
	for shard := 0; shard < shards; shard++ {
		go func() {
			for sc := 0; sc < scrapes; sc++ {
				t0 := at(10, 10, 0, 0).Add(time.Duration(sc) * 30 * time.Second)
				var req []ts
				for p := 0; p < pods; p++ {
					for ci, c := range []string{"app", "sidecar"} {
						if (p+ci)%shards != shard {
							continue
						}
						tc := t0.Add(time.Duration(ci*200) * time.Millisecond)
						req = append(req,
							cpu("shards", "shop", fmt.Sprintf("web-%02d", p), c, pt{tc, float64(sc) * 3}),
							mem("shards", "shop", fmt.Sprintf("web-%02d", p), c, pt{tc, float64(100e6 - ci*50e6)}))
					}
				}
				if _, err := e.v1.Store(context.Background(), encodeV1(t, req), 0); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for i := 0; i < shards; i++ {
		require.NoError(t, <-errs)
	}
	var out bytes.Buffer
	require.NoError(t, s.Query(context.Background(), &out,
		"SELECT round(cpu_cores * 3600, 6) AS cpu, round(memory_bytes) AS mem, count() FROM pod_usage WHERE cluster = 'shards' GROUP BY cpu, mem", "TSV"))
	// 2 containers x 9 increases of 3 s; (100 + 50) MB.
	require.Equal(t, fmt.Sprintf("54\t150000000\t%d\n", pods), out.String())
}
