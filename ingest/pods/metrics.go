package pods

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/furrowdev/furrow/internal/promreg"
)

// metrics are the watcher's counters, registered on the registry given in
// Dependencies.
type metrics struct {
	events          *prometheus.CounterVec
	intervalsOpened *prometheus.CounterVec
	intervalsClosed *prometheus.CounterVec
	errors          *prometheus.CounterVec
	sinkRecords     *prometheus.CounterVec
	dropped         prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	return &metrics{
		events: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "furrow", Subsystem: "pods", Name: "events_total",
			Help: "Informer events received, by cluster, object kind and event type.",
		}, []string{"cluster", "kind", "type"})),
		intervalsOpened: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "furrow", Subsystem: "pods", Name: "intervals_opened_total",
			Help: "Pod IP and node intervals opened, by cluster and kind (pod, hostnetwork_pod, node).",
		}, []string{"cluster", "kind"})),
		intervalsClosed: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "furrow", Subsystem: "pods", Name: "intervals_closed_total",
			Help: "Pod IP and node intervals closed, by cluster, kind and reason.",
		}, []string{"cluster", "kind", "reason"})),
		errors: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "furrow", Subsystem: "pods", Name: "errors_total",
			Help: "Errors, by cluster (empty for the sink) and stage.",
		}, []string{"cluster", "stage"})),
		sinkRecords: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "furrow", Subsystem: "pods", Name: "sink_records_total",
			Help: "Records handed to the sink successfully, by kind (pod, node).",
		}, []string{"kind"})),
		dropped: promreg.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "furrow", Subsystem: "pods", Name: "records_dropped_total",
			Help: "Records dropped because the sink failed for longer than max_pending records.",
		})),
	}
}
