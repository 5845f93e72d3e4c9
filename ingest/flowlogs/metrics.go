package flowlogs

import "github.com/prometheus/client_golang/prometheus"

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
	m := &metrics{
		objects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "furrow_flowlogs_objects_total",
			Help: "Flow-log objects by outcome: ingested, not_flow_log, failed.",
		}, []string{"outcome"}),
		recs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "furrow_flowlogs_records_total",
			Help: "Flow-log records by outcome: stored, rejected (malformed), outside_window.",
		}, []string{"outcome"}),
		skipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "furrow_flowlogs_objects_skipped_total",
			Help: "Listed flow-log objects skipped because the ledger has them.",
		}),
		permanent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "furrow_flowlogs_objects_failed_permanently_total",
			Help: "Flow-log objects that failed permanently (recorded in ingest_failures, not retried until the object or furrow changes).",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.objects, m.recs, m.skipped, m.permanent)
	}
	return m
}

func (m *metrics) records(r ObjectResult) {
	m.recs.WithLabelValues("stored").Add(float64(r.Stored))
	m.recs.WithLabelValues("rejected").Add(float64(r.Rejected))
	m.recs.WithLabelValues("outside_window").Add(float64(r.OutsideWindow))
}
