package alerting

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/furrowdev/furrow/config"
)

// Configuration is alert delivery (the alerting: section).
type Configuration struct {
	// Enabled starts the webhooks and the delivery worker.
	Enabled bool `yaml:"enabled"`
	// Slack is how furrow talks to Slack.
	Slack SlackConfiguration `yaml:"slack"`
	// NamespaceLabels are the labels an alert's namespace is read from, the
	// first present wins; an alert with none goes to default_channel.
	NamespaceLabels []string `yaml:"namespace_labels"`
	// ClusterLabel is the label naming an alert's cluster, for the owner
	// lookup (the catalog maps cluster and namespace to a project).
	ClusterLabel string `yaml:"cluster_label"`
	// Rules: default_channel, routes, mention_rules, default_mention,
	// reminders, default_reminder (docs/alerting.md).
	RulesConfiguration `yaml:",inline"`
	// Render says which labels messages show and how many alerts they list.
	Render RenderOptions `yaml:"render"`
	// Sources are the credentials each webhook requires.
	Sources SourcesConfiguration `yaml:"sources"`
	// MaxBodyBytes bounds a webhook's body; larger is refused with 413.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// MaxAlerts bounds the alerts of one webhook call; more is refused.
	MaxAlerts int `yaml:"max_alerts"`
	// DeliveryInterval is how often the worker looks for due deliveries.
	DeliveryInterval time.Duration `yaml:"delivery_interval"`
	// MaxBackoff bounds the wait between retries of a failing delivery
	// (1 s, doubling; Slack's Retry-After when it says so).
	MaxBackoff time.Duration `yaml:"max_backoff"`
	// ClaimLease is how long a delivery claimed by a worker is hidden from
	// the others; after a crash, its deliveries come due again after it.
	// Longer than slack.timeout.
	ClaimLease time.Duration `yaml:"claim_lease"`
	// ReportInterval is how often each channel gets a report of what fires
	// there and for how long, what resolved and what is snoozed (at the
	// interval's boundaries, UTC); 0 sends none.
	ReportInterval time.Duration `yaml:"report_interval"`
}

// SourcesConfiguration holds the credentials per webhook source.
type SourcesConfiguration struct {
	// Grafana's contact point (POST /api/v1/alerts/grafana).
	Grafana SourceAuth `yaml:"grafana"`
	// Alertmanager's receiver (POST /api/v1/alerts/alertmanager).
	Alertmanager SourceAuth `yaml:"alertmanager"`
}

// SourceAuth is what a webhook source must present. With any of them set,
// the source's route checks them itself instead of furrow's API token
// (senders send one Authorization header), and a request without them
// gets 401. With none, the route needs an API token with the ingest scope.
type SourceAuth struct {
	// BearerToken the sender sends as Authorization: Bearer.
	BearerToken config.Secret `yaml:"bearer_token"`
	// BasicUser and BasicPassword the sender sends as basic auth.
	BasicUser string `yaml:"basic_user"`
	// BasicPassword goes with BasicUser.
	BasicPassword config.Secret `yaml:"basic_password"`
	// HMACSecret (Grafana only) verifies X-Grafana-Alerting-Signature, the
	// hex HMAC-SHA256 of the body (of "timestamp:body" when Grafana sends
	// X-Grafana-Alerting-Signature-Timestamp).
	HMACSecret config.Secret `yaml:"hmac_secret"`
}

// Configured reports whether the source checks credentials itself.
func (a SourceAuth) Configured() bool {
	return a.BearerToken != "" || a.BasicUser != "" || a.BasicPassword != "" || a.HMACSecret != ""
}

// DefaultConfiguration is alerting off, Slack's public API, the default
// namespace labels and rules.
func DefaultConfiguration() Configuration {
	return Configuration{
		Slack:              DefaultSlackConfiguration(),
		NamespaceLabels:    []string{"namespace", "exported_namespace", "kubernetes_namespace", "k8s_namespace_name"},
		ClusterLabel:       "cluster",
		RulesConfiguration: DefaultRulesConfiguration(),
		Render:             DefaultRenderOptions(),
		MaxBodyBytes:       8 << 20,
		MaxAlerts:          DefaultMaxAlerts,
		DeliveryInterval:   time.Second,
		MaxBackoff:         5 * time.Minute,
		ClaimLease:         DefaultClaimLease,
		ReportInterval:     time.Hour,
	}
}

// Validate reports every problem at once.
func (c Configuration) Validate() error {
	var errs []error
	if err := c.Slack.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.RulesConfiguration.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("alerting: %w", err))
	}
	for i, l := range c.NamespaceLabels {
		if strings.TrimSpace(l) == "" {
			errs = append(errs, fmt.Errorf("alerting.namespace_labels[%d]: empty", i))
		}
	}
	if c.MaxBodyBytes <= 0 {
		errs = append(errs, errors.New("alerting.max_body_bytes: must be positive"))
	}
	if c.MaxAlerts <= 0 {
		errs = append(errs, errors.New("alerting.max_alerts: must be positive"))
	}
	if c.DeliveryInterval <= 0 {
		errs = append(errs, errors.New("alerting.delivery_interval: must be positive"))
	}
	if timeout := c.Slack.Timeout; c.ClaimLease < time.Second || (timeout > 0 && c.ClaimLease <= timeout) {
		errs = append(errs, fmt.Errorf("alerting.claim_lease: at least 1s and longer than alerting.slack.timeout (%s)", c.Slack.Timeout))
	}
	if c.ReportInterval < 0 || (c.ReportInterval > 0 && c.ReportInterval < time.Minute) {
		errs = append(errs, errors.New("alerting.report_interval: 0 (no reports) or at least 1m"))
	}
	if c.MaxBackoff < time.Second {
		errs = append(errs, errors.New("alerting.max_backoff: at least 1s"))
	}
	for _, src := range []struct {
		name string
		a    SourceAuth
	}{{"grafana", c.Sources.Grafana}, {"alertmanager", c.Sources.Alertmanager}} {
		name, a := src.name, src.a
		if (a.BasicUser == "") != (a.BasicPassword == "") {
			errs = append(errs, fmt.Errorf("alerting.sources.%s: basic_user and basic_password go together", name))
		}
		if a.BearerToken != "" && a.BasicUser != "" {
			errs = append(errs, fmt.Errorf("alerting.sources.%s: bearer_token or basic credentials, not both (one Authorization header)", name))
		}
	}
	if c.Sources.Alertmanager.HMACSecret != "" {
		errs = append(errs, errors.New("alerting.sources.alertmanager.hmac_secret: Alertmanager does not sign its webhooks; use bearer_token or basic credentials"))
	}
	return errors.Join(errs...)
}
