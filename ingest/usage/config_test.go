package usage

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

func TestValidate(t *testing.T) {
	require.NoError(t, DefaultConfiguration().Validate())
	cases := []struct {
		name   string
		change func(*Configuration)
		key    string
	}{
		{"no cluster label", func(c *Configuration) { c.ClusterLabel = "" }, "cluster_label"},
		{"cluster label is the namespace", func(c *Configuration) { c.ClusterLabel = "namespace" }, "cluster_label"},
		{"short TTL", func(c *Configuration) { c.SeriesTTL = 30 * time.Second }, "series_ttl"},
		{"no series", func(c *Configuration) { c.MaxSeries = 0 }, "max_series"},
		{"tiny body", func(c *Configuration) { c.MaxBodyBytes = 100 }, "max_body_bytes"},
		{"decoded below body", func(c *Configuration) { c.MaxDecodedBytes = c.MaxBodyBytes - 1 }, "max_decoded_bytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfiguration()
			tc.change(&cfg)
			err := cfg.Validate()
			require.ErrorIs(t, err, ErrInvalidConfiguration)
			require.ErrorContains(t, err, tc.key)
			_, err = New(cfg, Dependencies{Store: nil, Registry: prometheus.NewRegistry()})
			require.Error(t, err)
		})
	}
}

// TestTwoReceiversShareARegistry: a second receiver on one registry shares
// the first one's counters.
func TestTwoReceiversShareARegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	deps := Dependencies{Store: migratedStore(t), Registry: reg}
	a, err := New(DefaultConfiguration(), deps)
	require.NoError(t, err)
	b, err := New(DefaultConfiguration(), deps)
	require.NoError(t, err)
	require.Same(t, a.metrics.samplesReceived, b.metrics.samplesReceived)
	_, err = New(DefaultConfiguration(), Dependencies{Registry: reg})
	require.Error(t, err, "a store is required")
}
