package usage

import (
	"errors"
	"fmt"
	"time"
)

// Configuration is the configuration of the Prometheus remote-write
// receiver of pod CPU and memory usage.
type Configuration struct {
	// Enabled registers POST /api/v1/usage/prometheus/write (ingest scope);
	// false leaves the route out.
	Enabled bool `yaml:"enabled"`
	// ClusterLabel is the label that names a series' cluster, usually an
	// external label of the sending Prometheus (external_labels:
	// {cluster: prod-eu}). Not namespace, pod, container or __name__.
	ClusterLabel string `yaml:"cluster_label"`
	// DefaultCluster is the cluster of series without ClusterLabel; empty
	// drops them (counted under reason missing_cluster). Use the name the
	// pod watchers and the bill give the cluster, or allocation will not
	// match the usage to its pods.
	DefaultCluster string `yaml:"default_cluster"`
	// SeriesTTL is how long the last sample of a series is kept without a
	// new one; the next sample after that gives no CPU increase. At least
	// 1m, and longer than the sender's scrape interval.
	SeriesTTL time.Duration `yaml:"series_ttl"`
	// MaxSeries bounds the series kept in memory (about 100 bytes each);
	// samples of new series beyond it are dropped (reason series_limit).
	// At least 1.
	MaxSeries int `yaml:"max_series"`
	// MaxBodyBytes bounds a request's compressed body; a larger one is
	// refused with 413. At least 1 KiB; Prometheus sends about 100 KiB per
	// 2,000 samples.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// MaxDecodedBytes bounds a request's body once uncompressed (a small
	// snappy body can claim gigabytes); a larger one is refused with 413.
	// At least max_body_bytes.
	MaxDecodedBytes int64 `yaml:"max_decoded_bytes"`
}

// DefaultConfiguration returns the defaults: enabled, cluster from the
// label cluster, series forgotten after an hour without samples, requests
// up to 16 MiB compressed and 128 MiB uncompressed.
func DefaultConfiguration() Configuration {
	return Configuration{
		Enabled:         true,
		ClusterLabel:    "cluster",
		SeriesTTL:       time.Hour,
		MaxSeries:       2_000_000,
		MaxBodyBytes:    16 << 20,
		MaxDecodedBytes: 128 << 20,
	}
}

// ErrInvalidConfiguration wraps every configuration error.
var ErrInvalidConfiguration = errors.New("invalid usage configuration")

// Validate checks every bound documented on the fields; each problem names
// its key, and all are reported at once.
func (c Configuration) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfiguration}, args...)...))
	}
	switch c.ClusterLabel {
	case "":
		bad("cluster_label: empty; name the label carrying the cluster (usually cluster)")
	case labelName, labelNamespace, labelPod, labelContainer:
		bad("cluster_label: %q is a label the receiver reads for something else; use the external label naming the cluster", c.ClusterLabel)
	}
	if c.SeriesTTL < time.Minute {
		bad("series_ttl: %s is below 1m", c.SeriesTTL)
	}
	if c.MaxSeries < 1 {
		bad("max_series: %d is below 1", c.MaxSeries)
	}
	if c.MaxBodyBytes < 1<<10 {
		bad("max_body_bytes: %d is below 1024", c.MaxBodyBytes)
	}
	if c.MaxDecodedBytes < c.MaxBodyBytes {
		bad("max_decoded_bytes: %d is below max_body_bytes (%d)", c.MaxDecodedBytes, c.MaxBodyBytes)
	}
	return errors.Join(errs...)
}
