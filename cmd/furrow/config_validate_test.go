package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/config"
)

// TestConfigBoundsAreChecked loads a file with one value past its bound at
// a time, as `furrow` does at start (defaults, file, Validate), and checks
// it is refused with its section and key named: each bound that used to
// sit in a validate tag nobody read.
func TestConfigBoundsAreChecked(t *testing.T) {
	for _, c := range []struct {
		section, key, yaml string
	}{
		{"kubernetes", "resync_period", "kubernetes:\n  resync_period: -1s\n"},
		{"kubernetes", "sync_timeout", "kubernetes:\n  sync_timeout: 100ms\n"},
		{"kubernetes", "flush_interval", "kubernetes:\n  flush_interval: 1ms\n"},
		{"kubernetes", "max_pending", "kubernetes:\n  max_pending: 0\n"},
		{"store.embedded", "dedup_window", "store:\n  embedded:\n    dedup_window: -1\n"},
	} {
		t.Run(c.section+"."+c.key, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "furrow.yaml")
			require.NoError(t, os.WriteFile(path, []byte(c.yaml), 0o600))
			cfg := DefaultConfiguration()
			require.NoError(t, config.Load(path, &cfg, nil))
			err := cfg.Validate()
			require.ErrorContains(t, err, c.section+": ")
			require.ErrorContains(t, err, c.key)
		})
	}
	require.NoError(t, DefaultConfiguration().Validate(), "the defaults pass")
}
