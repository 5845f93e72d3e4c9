package pods

import (
	"errors"
	"fmt"
	"time"

	"github.com/furrowdev/furrow/kube"
)

// Configuration is the configuration of the pod and node metadata watcher.
type Configuration struct {
	// Clusters are the Kubernetes clusters to watch. Empty means one cluster:
	// the current context of the default kubeconfig ($KUBECONFIG or
	// ~/.kube/config).
	Clusters []ClusterConfiguration `yaml:"clusters"`
	// ResyncPeriod is how often the informers replay their cache as updates;
	// zero disables resyncs (watch events are enough to track IPs). Not
	// negative.
	ResyncPeriod time.Duration `yaml:"resync_period"`
	// SyncTimeout bounds the wait for the initial list of each cluster at
	// Start; a cluster that does not answer in time fails Start. At least
	// 1s: a shorter wait fails on any real cluster.
	SyncTimeout time.Duration `yaml:"sync_timeout"`
	// FlushInterval is how often buffered records are handed to the sink.
	// At least 10ms: shorter would insert a block per event.
	FlushInterval time.Duration `yaml:"flush_interval"`
	// MaxPending is how many records are kept while the sink fails; beyond
	// it the oldest are dropped and counted in records_dropped_total. At
	// least 1.
	MaxPending int `yaml:"max_pending"`
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

// The fields are kube.Cluster's, so that the conversion in Watcher.client
// stays exact (and fails to compile if they drift apart).
var _ = kube.Cluster(ClusterConfiguration{})

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

// Validate checks every bound documented on the fields, and that cluster
// names are unique once defaulted. Each problem names its key; all are
// reported at once.
func (c Configuration) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfiguration}, args...)...))
	}
	if c.ResyncPeriod < 0 {
		bad("resync_period: %s is negative (0 disables resyncs)", c.ResyncPeriod)
	}
	if c.SyncTimeout < time.Second {
		bad("sync_timeout: %s is below 1s", c.SyncTimeout)
	}
	if c.FlushInterval < 10*time.Millisecond {
		bad("flush_interval: %s is below 10ms", c.FlushInterval)
	}
	if c.MaxPending < 1 {
		bad("max_pending: %d is below 1", c.MaxPending)
	}
	if err := c.validateClusters(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// validateClusters checks that every watched cluster has a distinct name.
func (c Configuration) validateClusters() error {
	seen := map[string]bool{}
	for i, cl := range c.Clusters {
		name := cl.Name
		if name == "" {
			name = cl.Context
		}
		if name == "" && len(c.Clusters) > 1 {
			return fmt.Errorf("%w: clusters[%d]: needs a name or a context when several clusters are watched", ErrInvalidConfiguration, i)
		}
		if seen[name] {
			return fmt.Errorf("%w: clusters[%d].name: %q used twice; set distinct names", ErrInvalidConfiguration, i, name)
		}
		seen[name] = true
	}
	return nil
}
