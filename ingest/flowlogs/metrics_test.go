package flowlogs

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/store"
)

// TestTwoIngestersShareARegistry: a second ingester on the registry of the
// first (furrow serve's poller and hand-over jobs, or two tests) shares its
// counters instead of panicking on registration.
func TestTwoIngestersShareARegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	// Construction is inert: the store is kept, never called.
	s := struct{ store.Store }{}
	a := newTestIngester(t, s, Dependencies{Registry: reg}, IngestOptions{})
	var b *Ingester
	require.NotPanics(t, func() { b = newTestIngester(t, s, Dependencies{Registry: reg}, IngestOptions{}) })
	require.Same(t, a.m.recs, b.m.recs)
	require.Same(t, a.wm.retries, b.wm.retries)
}
