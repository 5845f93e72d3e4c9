package deployer

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/furrowdev/furrow/deployer/events"
	"github.com/furrowdev/furrow/deployer/secrets"
	"github.com/furrowdev/furrow/deployer/spec"
	"github.com/furrowdev/furrow/kube"
)

// Configuration is the deployer (the deployer: section).
type Configuration struct {
	// Enabled starts the deployer's API (deploys, rollbacks, restarts,
	// scale, CronJob triggers).
	Enabled bool `yaml:"enabled"`
	// Clusters are the clusters specs deploy to, by the name a spec's
	// environments give them, each with its region.
	Clusters []ClusterConfiguration `yaml:"clusters"`
	// Rules are the company rules specs must follow and the defaults they
	// get (docs/deployer.md, "Company rules"); the clusters are those above.
	Rules spec.Rules `yaml:"rules"`
	// RolloutTimeout bounds the wait for a rollout in one cluster.
	RolloutTimeout time.Duration `yaml:"rollout_timeout"`
	// NotReadyGrace is how long a pod may run without becoming Ready before
	// its readiness probe is reported failing.
	NotReadyGrace time.Duration `yaml:"not_ready_grace"`
	// PollInterval is how often a rollout's workloads and pods are read.
	PollInterval time.Duration `yaml:"poll_interval"`
	// LockLease is how long a deploy's lock outlives its last renewal: a
	// deploy whose process died frees its project's environment after it.
	LockLease time.Duration `yaml:"lock_lease"`
	// KubeQPS and KubeBurst bound the requests per second to one cluster's
	// API server, for all deploys at once (client-go's default, 5 and 10,
	// makes ten deploys watching one cluster wait on the client's limiter).
	KubeQPS float32 `yaml:"kube_qps"`
	// KubeBurst is the burst above KubeQPS.
	KubeBurst int `yaml:"kube_burst"`
	// SecretsManager is where specs' secrets are read.
	SecretsManager secrets.Configuration `yaml:"secrets_manager"`
	// Events are the external deploy events (Argo CD, GitHub) accepted
	// into deploy_events.
	Events events.Configuration `yaml:"events"`
}

// ClusterConfiguration is a cluster the deployer deploys to.
type ClusterConfiguration struct {
	// Cluster names the cluster (as specs write it) and how to reach it.
	kube.Cluster `yaml:",inline"`
	// Region is the AWS region the cluster runs in.
	Region string `yaml:"region"`
}

// DefaultConfiguration is the deployer off, with the company's default
// rules.
func DefaultConfiguration() Configuration {
	return Configuration{
		Rules:          spec.DefaultRules(),
		RolloutTimeout: 10 * time.Minute,
		NotReadyGrace:  2 * time.Minute,
		PollInterval:   time.Second,
		LockLease:      2 * time.Minute,
		KubeQPS:        50,
		KubeBurst:      100,
		SecretsManager: secrets.DefaultConfiguration(),
		Events:         events.DefaultConfiguration(),
	}
}

// Validate reports every problem at once.
func (c Configuration) Validate() error {
	var errs []error
	seen := map[string]bool{}
	for i, cl := range c.Clusters {
		switch {
		case cl.Name == "":
			errs = append(errs, fmt.Errorf("deployer.clusters[%d].name: required (specs name clusters)", i))
		case seen[cl.Name]:
			errs = append(errs, fmt.Errorf("deployer.clusters[%d].name: %q listed twice", i, cl.Name))
		}
		seen[cl.Name] = true
		if strings.TrimSpace(cl.Region) == "" {
			errs = append(errs, fmt.Errorf("deployer.clusters[%d].region: required", i))
		}
	}
	if err := c.Rules.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("deployer.rules: %w", err))
	}
	if c.RolloutTimeout < time.Second {
		errs = append(errs, errors.New("deployer.rollout_timeout: at least 1s"))
	}
	if c.NotReadyGrace < 0 {
		errs = append(errs, errors.New("deployer.not_ready_grace: must not be negative"))
	}
	if c.PollInterval < 10*time.Millisecond {
		errs = append(errs, errors.New("deployer.poll_interval: at least 10ms"))
	}
	if c.KubeQPS <= 0 || c.KubeBurst <= 0 {
		errs = append(errs, errors.New("deployer.kube_qps and kube_burst: must be positive"))
	}
	if c.LockLease < time.Second {
		errs = append(errs, errors.New("deployer.lock_lease: at least 1s"))
	}
	if c.Enabled || c.SecretsManager != (secrets.Configuration{}) {
		if err := c.SecretsManager.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("deployer.secrets_manager: %w", err))
		}
	}
	if err := c.Events.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("deployer.events: %w", err))
	}
	return errors.Join(errs...)
}

// rules are the company rules with the configured clusters as the known
// ones.
func (c Configuration) rules() spec.Rules {
	r := c.Rules
	if len(r.Clusters) == 0 {
		for _, cl := range c.Clusters {
			r.Clusters = append(r.Clusters, spec.KnownCluster{Name: cl.Name, Region: cl.Region})
		}
	}
	return r
}
