package pods

import (
	"errors"
	"fmt"
	"time"
)

// Configuration is the configuration of the pod and node metadata watcher.
type Configuration struct {
	// Clusters are the Kubernetes clusters to watch. Empty means one cluster:
	// the current context of the default kubeconfig ($KUBECONFIG or
	// ~/.kube/config).
	Clusters []ClusterConfiguration `yaml:"clusters" validate:"dive"`
	// ResyncPeriod is how often the informers replay their cache as updates;
	// zero disables resyncs (watch events are enough to track IPs).
	ResyncPeriod time.Duration `yaml:"resync_period" validate:"min=0"`
	// SyncTimeout bounds the wait for the initial list of each cluster at
	// Start; a cluster that does not answer in time fails Start.
	SyncTimeout time.Duration `yaml:"sync_timeout" validate:"min=1s"`
	// FlushInterval is how often buffered records are handed to the sink.
	FlushInterval time.Duration `yaml:"flush_interval" validate:"min=10ms"`
	// MaxPending is how many records are kept while the sink fails; beyond
	// it the oldest are dropped and counted in records_dropped_total.
	MaxPending int `yaml:"max_pending" validate:"min=1"`
}

// ClusterConfiguration selects one cluster through a kubeconfig context.
type ClusterConfiguration struct {
	// Name is the cluster name recorded in every row; empty means the
	// context name. It must be unique across clusters.
	Name string `yaml:"name"`
	// Kubeconfig is the kubeconfig file; empty means the default loading
	// rules ($KUBECONFIG, then ~/.kube/config, then in-cluster).
	Kubeconfig string `yaml:"kubeconfig"`
	// Context is the kubeconfig context; empty means its current context.
	Context string `yaml:"context"`
}

// DefaultConfiguration returns the default configuration: the current
// kubeconfig context, flushed every second.
func DefaultConfiguration() Configuration {
	return Configuration{
		ResyncPeriod:  0,
		SyncTimeout:   2 * time.Minute,
		FlushInterval: time.Second,
		MaxPending:    1_000_000,
	}
}

// ErrInvalidConfiguration wraps every configuration error.
var ErrInvalidConfiguration = errors.New("invalid pods configuration")

// Validate checks the fields that a struct tag cannot: cluster names must be
// unique once defaulted.
func (c Configuration) Validate() error {
	if c.FlushInterval <= 0 || c.SyncTimeout <= 0 || c.MaxPending <= 0 {
		return fmt.Errorf("%w: flush_interval, sync_timeout and max_pending must be positive", ErrInvalidConfiguration)
	}
	seen := map[string]bool{}
	for i, cl := range c.Clusters {
		name := cl.Name
		if name == "" {
			name = cl.Context
		}
		if name == "" && len(c.Clusters) > 1 {
			return fmt.Errorf("%w: clusters[%d] needs a name or a context when several clusters are watched", ErrInvalidConfiguration, i)
		}
		if seen[name] {
			return fmt.Errorf("%w: cluster name %q used twice; set distinct names", ErrInvalidConfiguration, name)
		}
		seen[name] = true
	}
	return nil
}
