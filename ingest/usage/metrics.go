package usage

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/furrowdev/furrow/internal/promreg"
)

// Reasons a series or a sample is not used, the label values of the
// dropped counters.
const (
	// Series.
	reasonMetric         = "other_metric"    // neither of the two metrics
	reasonPodCgroup      = "pod_cgroup"      // container="": the pod's own cgroup, the sum of its containers
	reasonPause          = "pause_container" // container="POD"
	reasonMissingLabels  = "missing_labels"  // no namespace or no pod
	reasonMissingCluster = "missing_cluster" // no cluster label and no default_cluster
	reasonHistogram      = "histogram"       // native histogram samples: not these metrics' type
	reasonSeriesLimit    = "series_limit"    // max_series reached
	// Samples (of kept series).
	reasonOutOfOrder = "out_of_order"  // older than the last sample of its series
	reasonDuplicate  = "duplicate"     // same timestamp as the last sample (a re-sent batch)
	reasonStale      = "stale"         // Prometheus' staleness marker
	reasonInvalid    = "invalid_value" // NaN, ±Inf or negative
	reasonFuture     = "future"        // more than 10 minutes ahead of furrow's clock
)

// Reasons a whole request is refused, the label values of
// requests_refused_total.
const (
	refusedTooLarge    = "too_large"
	refusedMediaType   = "unsupported_media_type"
	refusedEncoding    = "unsupported_encoding"
	refusedNotSnappy   = "not_snappy"
	refusedNotProtobuf = "not_protobuf"
	refusedInvalid     = "invalid_request"
	refusedStore       = "store_failed"
	refusedBusy        = "cancelled"
)

// metrics are the receiver's counters, registered on the registry given in
// Dependencies. Rows stored are counted by the store's instrumentation
// (furrow_store_inserted_rows_total{table="pod_usage_hourly"}).
type metrics struct {
	requests        *prometheus.CounterVec
	refused         *prometheus.CounterVec
	samplesReceived prometheus.Counter
	samplesKept     *prometheus.CounterVec
	samplesDropped  *prometheus.CounterVec
	seriesDropped   *prometheus.CounterVec
	counterResets   prometheus.Counter
	counterStarts   prometheus.Counter
	seriesTracked   prometheus.Gauge
	seriesEvicted   prometheus.Counter
	inserts         prometheus.Counter
	insertErrors    prometheus.Counter
	insertSeconds   prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) *metrics {
	opts := func(name, help string) prometheus.CounterOpts {
		return prometheus.CounterOpts{Namespace: "furrow", Subsystem: "usage", Name: name, Help: help}
	}
	return &metrics{
		requests: promreg.Register(reg, prometheus.NewCounterVec(opts("requests_total",
			"Remote-write requests stored, by protocol version (1 or 2)."), []string{"version"})),
		refused: promreg.Register(reg, prometheus.NewCounterVec(opts("requests_refused_total",
			"Remote-write requests refused, by reason (too_large, unsupported_media_type, unsupported_encoding, not_snappy, not_protobuf, invalid_request: 4xx, not retried; store_failed, cancelled: 5xx, retried)."), []string{"reason"})),
		samplesReceived: promreg.Register(reg, prometheus.NewCounter(opts("samples_received_total",
			"Float samples received in decoded requests, kept or not."))),
		samplesKept: promreg.Register(reg, prometheus.NewCounterVec(opts("samples_kept_total",
			"Samples that moved a series forward and were stored, by metric (cpu, memory)."), []string{"metric"})),
		samplesDropped: promreg.Register(reg, prometheus.NewCounterVec(opts("samples_dropped_total",
			"Samples not used, by reason (the series reasons of dropped_series_total, and out_of_order, duplicate, stale, invalid_value, future)."), []string{"reason"})),
		seriesDropped: promreg.Register(reg, prometheus.NewCounterVec(opts("dropped_series_total",
			"Series of a request not used, by reason (other_metric, pod_cgroup, pause_container, missing_labels, missing_cluster, histogram, series_limit); a series counts once per request."), []string{"reason"})),
		counterResets: promreg.Register(reg, prometheus.NewCounter(opts("counter_resets_total",
			"CPU counter samples lower than the previous one (a container restart), counted from 0."))),
		counterStarts: promreg.Register(reg, prometheus.NewCounter(opts("counter_starts_total",
			"First CPU samples of a series (new, or after eviction or a restart of furrow): they give no increase."))),
		seriesTracked: promreg.Register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "furrow", Subsystem: "usage", Name: "series_tracked",
			Help: "Series whose last sample is kept in memory.",
		})),
		seriesEvicted: promreg.Register(reg, prometheus.NewCounter(opts("series_evicted_total",
			"Series forgotten after series_ttl without a sample."))),
		inserts: promreg.Register(reg, prometheus.NewCounter(opts("inserts_total",
			"Blocks of rollups inserted into pod_usage_hourly."))),
		insertErrors: promreg.Register(reg, prometheus.NewCounter(opts("insert_errors_total",
			"Failed inserts into pod_usage_hourly (the request is answered 5xx and the sender retries it)."))),
		insertSeconds: promreg.Register(reg, prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "furrow", Subsystem: "usage", Name: "insert_seconds",
			Help:    "Duration of the inserts into pod_usage_hourly.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 8),
		})),
	}
}
