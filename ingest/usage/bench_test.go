package usage

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/golang/snappy"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/prompb"
	"github.com/stretchr/testify/require"
)

// benchScrapes builds what a Prometheus sends for a cluster of pods pods
// with two containers each (an application and a sidecar), scraped every
// 30 s scrapes times: both metrics, in requests of 2,000 samples
// (queue_config.max_samples_per_send's default), v1 bodies.
func benchScrapes(b *testing.B, pods, scrapes int) [][]byte {
	var bodies [][]byte
	var batch []ts
	n := 0
	flush := func() {
		if len(batch) > 0 {
			bodies = append(bodies, encodeV1(b, batch))
			batch, n = nil, 0
		}
	}
	start := now.Add(-time.Duration(scrapes) * 30 * time.Second)
	for s := 0; s < scrapes; s++ {
		t := start.Add(time.Duration(s) * 30 * time.Second)
		for p := 0; p < pods; p++ {
			pod := fmt.Sprintf("web-%d", p)
			ns := fmt.Sprintf("team-%d", p%50)
			for ci, c := range []string{"app", "istio-proxy"} {
				tc := t.Add(time.Duration(ci*150) * time.Millisecond)
				batch = append(batch,
					cpu("", ns, pod, c, pt{tc, float64(s) * 3.5}),
					mem("", ns, pod, c, pt{tc, 100e6 + float64(p)}))
				if n += 2; n >= 2000 {
					flush()
				}
			}
		}
	}
	flush()
	return bodies
}

func envInt(b *testing.B, name string, def int) int {
	if v := os.Getenv(name); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(b, err, name)
		return n
	}
	return def
}

// BenchmarkReceive measures samples/s through the receiver (HTTP on
// loopback, decoding, rollup, one insert per request into the embedded
// engine) next to the baseline of the same bodies decoded by prompb alone
// (snappy + WriteRequest.Unmarshal): the ratio is the receiver's cost over
// the bare decoding. FURROW_BENCH_USAGE_PODS (default 2000) pods of two
// containers, FURROW_BENCH_USAGE_SCRAPES (default 20) scrapes.
func BenchmarkReceive(b *testing.B) {
	pods := envInt(b, "FURROW_BENCH_USAGE_PODS", 2000)
	scrapes := envInt(b, "FURROW_BENCH_USAGE_SCRAPES", 20)
	bodies := benchScrapes(b, pods, scrapes)
	samples := pods * 2 * 2 * scrapes
	s := migratedStore(b)
	b.ResetTimer()
	var base, recv, insert time.Duration
	for i := 0; i < b.N; i++ {
		// Baseline: the decoding alone.
		t0 := time.Now()
		decoded := 0
		for _, body := range bodies {
			raw, err := snappy.Decode(nil, body)
			require.NoError(b, err)
			var req prompb.WriteRequest
			require.NoError(b, req.Unmarshal(raw))
			for _, ts := range req.Timeseries {
				decoded += len(ts.Samples)
			}
		}
		base += time.Since(t0)
		require.Equal(b, samples, decoded)

		// The receiver, a new one on a new cluster name per iteration.
		cfg := DefaultConfiguration()
		cfg.DefaultCluster = fmt.Sprintf("bench-%d", i)
		e := newEnv(b, s, cfg)
		client := &http.Client{}
		t0 = time.Now()
		for _, body := range bodies {
			req, err := http.NewRequest(http.MethodPost, e.url, bytes.NewReader(body))
			require.NoError(b, err)
			req.Header.Set("Content-Type", contentTypeProtobuf)
			req.Header.Set("Content-Encoding", encodingSnappy)
			req.Header.Set(headerVersion, headerVersionV1)
			resp, err := client.Do(req)
			require.NoError(b, err)
			resp.Body.Close()
			require.Equal(b, http.StatusNoContent, resp.StatusCode)
		}
		recv += time.Since(t0)
		var m dto.Metric
		require.NoError(b, e.c.metrics.insertSeconds.Write(&m))
		insert += time.Duration(m.GetHistogram().GetSampleSum() * float64(time.Second))
	}
	b.StopTimer()
	n := float64(samples * b.N)
	b.ReportMetric(n/base.Seconds(), "baseline_samples/s")
	b.ReportMetric(n/recv.Seconds(), "stored_samples/s")
	b.ReportMetric(recv.Seconds()/base.Seconds(), "x_baseline_time")
	b.ReportMetric(insert.Seconds()/recv.Seconds(), "insert_share")
	// Every pod has one row per hour it covers, with the expected CPU.
	var out bytes.Buffer
	require.NoError(b, s.Query(b.Context(), &out,
		"SELECT count(), round(sum(cpu_cores) * 3600) FROM pod_usage WHERE cluster = 'bench-0'", "TSV"))
	b.Logf("%d pods x 2 containers x 2 metrics x %d scrapes = %d samples in %d requests of 2,000; rows (pod-hours), CPU seconds: %s",
		pods, scrapes, samples, len(bodies), bytes.TrimSpace(out.Bytes()))
}
