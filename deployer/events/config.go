package events

import (
	"errors"

	"github.com/furrowdev/furrow/config"
)

// Configuration is the ingest of external deploy events (the deployer's
// events: section): which webhooks furrow serves and how GitHub's are
// verified.
type Configuration struct {
	// ArgoCD serves POST /api/v1/deploys/events/argocd, for
	// argocd-notifications webhooks (the template in docs/deployer.md);
	// the request needs an API token with the ingest scope.
	ArgoCD bool `yaml:"argocd"`
	// GitHubSecret is the secret of the GitHub webhook sending
	// deployment_status events to POST /api/v1/deploys/events/github; a
	// request whose X-Hub-Signature-256 does not match it gets 401. Empty
	// serves no GitHub route.
	GitHubSecret config.Secret `yaml:"github_secret"`
	// MaxBodyBytes bounds a webhook's body; larger is refused with 413.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
}

// DefaultConfiguration serves the Argo CD route (it needs an ingest
// token), no GitHub route, bodies up to 1 MiB (a deployment_status
// payload is 10-20 KB).
func DefaultConfiguration() Configuration {
	return Configuration{ArgoCD: true, MaxBodyBytes: 1 << 20}
}

// Validate checks the body bound.
func (c Configuration) Validate() error {
	if c.MaxBodyBytes <= 0 {
		return errors.New("max_body_bytes: must be positive, e.g. 1048576")
	}
	return nil
}
