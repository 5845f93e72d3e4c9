package pods

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

// TestTwoWatchersShareARegistry: a second watcher on one registry shares
// the first one's counters instead of failing or panicking on registration.
func TestTwoWatchersShareARegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	deps := Dependencies{Sink: NewMemorySink(), Registry: reg}
	a, err := New(DefaultConfiguration(), deps)
	require.NoError(t, err)
	b, err := New(DefaultConfiguration(), deps)
	require.NoError(t, err)
	require.Same(t, a.metrics.events, b.metrics.events)
}
