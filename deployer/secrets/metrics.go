package secrets

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/furrowdev/furrow/internal/promreg"
)

// metrics are the resolver's counters, registered on the registry given
// with WithRegistry.
type metrics struct {
	resolutions *prometheus.CounterVec
	requests    *prometheus.CounterVec
	fallbacks   prometheus.Counter
	duration    prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) *metrics {
	return &metrics{
		resolutions: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "furrow", Subsystem: "deployer_secrets", Name: "resolutions_total",
			Help: "Resolutions of a config's secrets, by result (ok, error, refused for more than 8 secrets).",
		}, []string{"result"})),
		requests: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "furrow", Subsystem: "deployer_secrets", Name: "requests_total",
			Help: "Secrets Manager operations called, by operation (SDK retries not counted).",
		}, []string{"operation"})),
		fallbacks: promreg.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "furrow", Subsystem: "deployer_secrets", Name: "batch_fallbacks_total",
			Help: "BatchGetSecretValue calls refused (unknown operation, access denied), the secrets then read one by one.",
		})),
		duration: promreg.Register(reg, prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "furrow", Subsystem: "deployer_secrets", Name: "resolution_seconds",
			Help:    "Time to resolve a config's secrets, retries included.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		})),
	}
}
