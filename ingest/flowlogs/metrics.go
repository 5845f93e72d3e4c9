package flowlogs

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/furrowdev/furrow/internal/promreg"
)

// metrics count what the ingester does.
type metrics struct {
	objects *prometheus.CounterVec
	recs    *prometheus.CounterVec
	skipped prometheus.Counter
	// permanent counts the objects that failed permanently (also counted
	// as failed): they are recorded and not retried.
	permanent prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	return &metrics{
		objects: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "furrow_flowlogs_objects_total",
			Help: "Flow-log objects by outcome: ingested, not_flow_log, failed.",
		}, []string{"outcome"})),
		recs: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "furrow_flowlogs_records_total",
			Help: "Flow-log records by outcome: stored, rejected (malformed), outside_window.",
		}, []string{"outcome"})),
		skipped: promreg.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "furrow_flowlogs_objects_skipped_total",
			Help: "Listed flow-log objects skipped because the ledger has them.",
		})),
		permanent: promreg.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "furrow_flowlogs_objects_failed_permanently_total",
			Help: "Flow-log objects that failed permanently (recorded in ingest_failures, not retried until the object or furrow changes).",
		})),
	}
}

func (m *metrics) records(r ObjectResult) {
	m.recs.WithLabelValues("stored").Add(float64(r.Stored))
	m.recs.WithLabelValues("rejected").Add(float64(r.Rejected))
	m.recs.WithLabelValues("outside_window").Add(float64(r.OutsideWindow))
}

// insertMetrics count the flow ingest's insert streams into flow_logs. The
// rows they store are counted once, by the store's instrumentation
// (furrow_store_inserted_rows_total{table="flow_logs"}), and the records
// an object added by furrow_flowlogs_records_total{outcome="stored"}.
type insertMetrics struct {
	blocks, failures, retries *prometheus.CounterVec
}

func newInsertMetrics(reg prometheus.Registerer) *insertMetrics {
	return &insertMetrics{
		blocks: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "furrow_flowlogs_inserted_blocks_total",
			Help: "Parsed blocks sent through insert streams that committed, by table.",
		}, []string{"table"})),
		failures: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "furrow_flowlogs_insert_failures_total",
			Help: "Insert streams that failed (an object retried counts once per failed attempt), by table.",
		}, []string{"table"})),
		retries: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "furrow_flowlogs_insert_retries_total",
			Help: "Objects read again after a transient store error, by table.",
		}, []string{"table"})),
	}
}

// Inserted counts a committed stream of blocks blocks. Its rows are left to
// the store's instrumentation, which sees every insert of every component.
func (m *insertMetrics) Inserted(table string, blocks, _ int) {
	m.blocks.WithLabelValues(table).Add(float64(blocks))
}

// Failed counts a failed insert stream.
func (m *insertMetrics) Failed(table string) { m.failures.WithLabelValues(table).Inc() }

// Retried counts an object read again after a transient store error.
func (m *insertMetrics) Retried(table string) { m.retries.WithLabelValues(table).Inc() }
