package pods

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestValidate: each bound documented on a field refuses a value past it,
// with the key in the message, and the defaults pass.
func TestValidate(t *testing.T) {
	require.NoError(t, DefaultConfiguration().Validate())
	for _, c := range []struct {
		key    string
		mutate func(*Configuration)
	}{
		{"resync_period", func(c *Configuration) { c.ResyncPeriod = -time.Second }},
		{"sync_timeout", func(c *Configuration) { c.SyncTimeout = 500 * time.Millisecond }},
		{"flush_interval", func(c *Configuration) { c.FlushInterval = time.Millisecond }},
		{"max_pending", func(c *Configuration) { c.MaxPending = 0 }},
		{"clusters[1].name", func(c *Configuration) {
			c.Clusters = []ClusterConfiguration{{Name: "a"}, {Name: "a", Context: "other"}}
		}},
		{"clusters[1]", func(c *Configuration) { c.Clusters = []ClusterConfiguration{{Name: "a"}, {}} }},
	} {
		t.Run(c.key, func(t *testing.T) {
			cfg := DefaultConfiguration()
			c.mutate(&cfg)
			err := cfg.Validate()
			require.ErrorIs(t, err, ErrInvalidConfiguration)
			require.ErrorContains(t, err, c.key)
		})
	}
	cfg := DefaultConfiguration()
	cfg.SyncTimeout, cfg.MaxPending = 0, 0
	err := cfg.Validate()
	require.ErrorContains(t, err, "sync_timeout")
	require.ErrorContains(t, err, "max_pending", "every problem is reported at once")
}
