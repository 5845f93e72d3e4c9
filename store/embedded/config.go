package embedded

import "fmt"

// Configuration is the embedded engine's configuration (`store.embedded`).
type Configuration struct {
	// ChdbLib is the path of libchdb.so. Empty: env FURROW_CHDB_LIB, the
	// --chdb-lib flag, the furrow cache filled by `make setup`, then
	// /usr/local/lib and /usr/lib.
	ChdbLib string `yaml:"chdb_lib"`
	// StagingDir holds the named pipes through which insert batches stream
	// to the engine in Native format (and the benchmark's staged files).
	// Empty: /dev/shm when it exists, else the system temp directory.
	StagingDir string `yaml:"staging_dir"`
	// DedupWindow is how many recent insert blocks each MergeTree table
	// remembers to drop retried inserts (non_replicated_deduplication_window).
	// Not negative; 0 turns deduplication off, and with it exactly-once
	// ingest.
	DedupWindow int `yaml:"dedup_window"`
}

// DefaultConfiguration returns the defaults.
func DefaultConfiguration() Configuration {
	return Configuration{DedupWindow: 10000}
}

// Validate checks the bounds documented on the fields.
func (c Configuration) Validate() error {
	if c.DedupWindow < 0 {
		return fmt.Errorf("dedup_window: %d is negative", c.DedupWindow)
	}
	return nil
}
