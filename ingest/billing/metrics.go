package billing

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/furrowdev/furrow/internal/promreg"
)

// metrics count what the poller does.
type metrics struct {
	polls      *prometheus.CounterVec
	deliveries *prometheus.CounterVec
	rows       prometheus.Counter
	rejected   prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	const ns, sub = "furrow", "billing"
	return &metrics{
		polls: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "polls_total",
			Help: "Listings of a billing prefix, by result (ok, error).",
		}, []string{"result"})),
		deliveries: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "deliveries_total",
			Help: "Deliveries found by the poller, by result (loaded, skipped: already loaded).",
		}, []string{"result"})),
		rows: promreg.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "rows_total",
			Help: "Line items loaded by the poller.",
		})),
		rejected: promreg.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "rejected_rows_total",
			Help: "Line items rejected (an amount or a date that does not parse) by the poller.",
		})),
	}
}
