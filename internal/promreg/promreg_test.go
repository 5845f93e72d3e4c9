package promreg

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

func newCounter() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: "furrow_test_total", Help: "A test counter."}, []string{"l"})
}

func TestRegisterSharesTheFirstInstance(t *testing.T) {
	reg := prometheus.NewRegistry()
	first := Register(reg, newCounter())
	second := Register(reg, newCounter())
	require.Same(t, first, second, "the second instance gets the registered collector")
	second.WithLabelValues("a").Inc()
	first.WithLabelValues("a").Inc()
	require.Equal(t, 2.0, testutil.ToFloat64(first.WithLabelValues("a")))
}

func TestRegisterNilRegistry(t *testing.T) {
	c := newCounter()
	require.Same(t, c, Register(nil, c))
}

func TestRegisterConflictPanics(t *testing.T) {
	reg := prometheus.NewRegistry()
	Register(reg, newCounter())
	other := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "furrow_test_total", Help: "A test counter."}, []string{"other"})
	require.Panics(t, func() { Register(reg, other) }, "two definitions of one metric are a bug")
}
