// Package toolcache locates the tools the setup scripts install for the
// tests (MinIO, the Kubernetes control plane, the JS ClickHouse client):
// <cache>/tools, with <cache> = $FURROW_CACHE or
// ${XDG_CACHE_HOME:-~/.cache}/furrow, as in scripts/setup-*.sh.
package toolcache

import (
	"os"
	"path/filepath"
)

// Tools is <cache>/tools/name.
func Tools(name string) string {
	cache := os.Getenv("FURROW_CACHE")
	if cache == "" {
		base := os.Getenv("XDG_CACHE_HOME")
		if base == "" {
			home, _ := os.UserHomeDir()
			base = filepath.Join(home, ".cache")
		}
		cache = filepath.Join(base, "furrow")
	}
	return filepath.Join(cache, "tools", name)
}
