package source

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

// TestTwoPollersShareARegistry: a second poller on one registry shares the
// first one's counters instead of panicking on registration.
func TestTwoPollersShareARegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	cfg := DefaultConfiguration()
	deps := PollerDependencies{Source: New(cfg, Dependencies{}), Ledger: &MemoryLedger{}, Registry: reg}
	a, err := NewPoller(cfg, deps)
	require.NoError(t, err)
	var b *Poller
	require.NotPanics(t, func() { b, err = NewPoller(cfg, deps) })
	require.NoError(t, err)
	require.Same(t, a.m.listed, b.m.listed)
}
