package usage

import (
	"bytes"
	"context"
	"net/http/httptest"
	"net/url"
	"sort"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/prometheus"
	config_util "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
	"github.com/prometheus/prometheus/storage/remote"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/internal/testenv/chtest"
	"github.com/furrowdev/furrow/migrations"
	"github.com/furrowdev/furrow/store"
)

// now is furrow's clock in the tests; samples are from the hours before.
var now = time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)

// at is 2026-11-02 at hh:mm:ss.ms.
func at(hh, mm, ss, ms int) time.Time {
	return time.Date(2026, 11, 2, hh, mm, ss, ms*1e6, time.UTC)
}

// migratedStore returns a fresh database with furrow's schema.
func migratedStore(t testing.TB) store.Store {
	t.Helper()
	s := chtest.Store(t)
	_, err := migrations.New(s, migrations.Options{}).Up(context.Background())
	require.NoError(t, err)
	return s
}

// pt is a sample.
type pt struct {
	at time.Time
	v  float64
}

// ts is a series to send: label pairs and samples.
type ts struct {
	labels  []string
	samples []pt
}

// cadvisor is a series of metric for a container, labelled as the
// kubelet's cAdvisor endpoint and a Prometheus with external label
// cluster label it.
func cadvisor(metric, cluster, ns, pod, container string, samples ...pt) ts {
	l := []string{"__name__", metric, "job", "kubelet", "metrics_path", "/metrics/cadvisor",
		"namespace", ns, "pod", pod, "container", container, "id", "/kubepods/" + pod + "/" + container, "image", "img"}
	if cluster != "" {
		l = append(l, "cluster", cluster)
	}
	return ts{labels: l, samples: samples}
}

func cpu(cluster, ns, pod, container string, samples ...pt) ts {
	return cadvisor(metricCPU, cluster, ns, pod, container, samples...)
}

func mem(cluster, ns, pod, container string, samples ...pt) ts {
	return cadvisor(metricMemory, cluster, ns, pod, container, samples...)
}

// encodeV1 is a snappy-compressed prometheus.WriteRequest of series.
func encodeV1(t testing.TB, series []ts) []byte {
	t.Helper()
	req := prompb.WriteRequest{}
	for _, s := range series {
		var pl []prompb.Label
		labels.FromStrings(s.labels...).Range(func(l labels.Label) {
			pl = append(pl, prompb.Label{Name: l.Name, Value: l.Value})
		})
		var smp []prompb.Sample
		for _, p := range s.samples {
			smp = append(smp, prompb.Sample{Timestamp: p.at.UnixMilli(), Value: p.v})
		}
		req.Timeseries = append(req.Timeseries, prompb.TimeSeries{Labels: pl, Samples: smp})
	}
	b, err := req.Marshal()
	require.NoError(t, err)
	return snappy.Encode(nil, b)
}

// encodeV2 is a snappy-compressed io.prometheus.write.v2.Request of series.
func encodeV2(t testing.TB, series []ts) []byte {
	t.Helper()
	st := writev2.NewSymbolTable()
	req := writev2.Request{}
	for _, s := range series {
		var smp []writev2.Sample
		for _, p := range s.samples {
			smp = append(smp, writev2.Sample{Timestamp: p.at.UnixMilli(), Value: p.v})
		}
		req.Timeseries = append(req.Timeseries, writev2.TimeSeries{
			LabelsRefs: st.SymbolizeLabels(labels.FromStrings(s.labels...), nil),
			Samples:    smp,
		})
	}
	req.Symbols = st.Symbols()
	b, err := req.Marshal()
	require.NoError(t, err)
	return snappy.Encode(nil, b)
}

// env is a receiver on a real store behind an HTTP server on loopback,
// and Prometheus' own remote-write clients pointed at it.
type env struct {
	c   *Component
	s   store.Store
	reg *prometheus.Registry
	srv *httptest.Server
	url string
	v1  remote.WriteClient
	v2  remote.WriteClient
}

func newEnv(t testing.TB, s store.Store, cfg Configuration) *env {
	t.Helper()
	reg := prometheus.NewRegistry()
	c, err := New(cfg, Dependencies{Store: s, Registry: reg, Now: func() time.Time { return now }})
	require.NoError(t, err)
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	c.Routes(e.Group("/api/v1"))
	srv := httptest.NewServer(e) // 127.0.0.1
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL + "/api/v1" + Path)
	require.NoError(t, err)
	client := func(msg config.RemoteWriteProtoMsg) remote.WriteClient {
		wc, err := remote.NewWriteClient("furrow-test", &remote.ClientConfig{
			URL:              &config_util.URL{URL: u},
			Timeout:          model.Duration(30 * time.Second),
			HTTPClientConfig: config_util.DefaultHTTPClientConfig,
			WriteProtoMsg:    msg,
		})
		require.NoError(t, err)
		return wc
	}
	return &env{c: c, s: s, reg: reg, srv: srv, url: u.String(),
		v1: client(config.RemoteWriteProtoMsgV1), v2: client(config.RemoteWriteProtoMsgV2)}
}

// send sends series with Prometheus' client in protocol version v.
func (e *env) send(t testing.TB, v int, series []ts) (remote.WriteResponseStats, error) {
	t.Helper()
	if v == 2 {
		return e.v2.Store(context.Background(), encodeV2(t, series), 0)
	}
	return e.v1.Store(context.Background(), encodeV1(t, series), 0)
}

// usage returns the pod_usage rows of cluster: namespace, pod, hour, CPU
// seconds and mean working set, rounded to 6 digits.
func usageRows(t testing.TB, s store.Store, cluster string) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, s.Query(context.Background(), &buf,
		"SELECT namespace, pod, hour, round(cpu_cores * 3600, 6), round(memory_bytes, 6) FROM pod_usage WHERE cluster = {c:String} ORDER BY namespace, pod, hour",
		"TSV", store.WithParams(map[string]string{"c": cluster})))
	return buf.String()
}

// sortedKeys is for stable failure messages.
func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
