package source

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/furrowdev/furrow/internal/promreg"
)

// metrics count what the poller does, per configured prefix.
type metrics struct {
	polls        prometheus.Counter
	listed       *prometheus.CounterVec
	newObjects   *prometheus.CounterVec
	listErrors   *prometheus.CounterVec
	ledgerErrors prometheus.Counter
	emitErrors   prometheus.Counter
	skipFailed   *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	const ns, sub = "furrow", "source"
	return &metrics{
		polls: promreg.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "polls_total",
			Help: "Polling rounds started.",
		})),
		listed: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "objects_listed_total",
			Help: "Objects listed inside the polling window, new or not.",
		}, []string{"prefix"})),
		newObjects: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "objects_new_total",
			Help: "Listed objects the ledger did not know, handed to ingest.",
		}, []string{"prefix"})),
		listErrors: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "list_errors_total",
			Help: "Listings of a prefix that failed.",
		}, []string{"prefix"})),
		ledgerErrors: promreg.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "ledger_errors_total",
			Help: "Ledger look-ups that failed.",
		})),
		emitErrors: promreg.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "ingest_errors_total",
			Help: "New objects whose ingest failed; they are retried next round unless the failure was permanent.",
		})),
		skipFailed: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "objects_skipped_failed_total",
			Help: "Listed objects left alone because they failed permanently under this binary.",
		}, []string{"prefix"})),
	}
}
