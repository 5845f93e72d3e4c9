// Package alerting receives Grafana and Alertmanager webhooks and delivers
// one Slack message per namespace and alert type, with owners, links,
// mention rules, snooze and reminders (docs/alerting.md). Stages are named
// for what they do, as in Alertmanager: decode (webhook.go), split
// (split.go), route and mention (rules.go), render and deliver (slack.go).
package alerting

import "time"

// Status of an alert or a group: firing or resolved.
const (
	StatusFiring   = "firing"
	StatusResolved = "resolved"
)

// Alert is one alert of a notification, as Grafana (version 1) and
// Alertmanager (version 4) send it, with what absent fields fall back to
// filled in by the decoder (docs/alerting.md lists the fallbacks).
type Alert struct {
	// Status is firing or resolved (absent: from EndsAt, else the
	// notification's status).
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	// EndsAt is zero while firing (Alertmanager's 0001-01-01 too).
	EndsAt time.Time `json:"endsAt"`
	// Fingerprint identifies the alert's label set (absent: computed from
	// the labels as Alertmanager does).
	Fingerprint string `json:"fingerprint"`
	// Values are Grafana's query values by ref id (A, B, C…); ValueString
	// its text form ("[ var='A' labels={...} value=12.5 ]").
	Values      map[string]float64 `json:"values,omitempty"`
	ValueString string             `json:"valueString,omitempty"`
	// Links Grafana and Alertmanager give.
	GeneratorURL string `json:"generatorURL,omitempty"`
	SilenceURL   string `json:"silenceURL,omitempty"`
	DashboardURL string `json:"dashboardURL,omitempty"`
	PanelURL     string `json:"panelURL,omitempty"`
}

// Notification is one webhook call.
type Notification struct {
	// Source is "grafana" or "alertmanager" (the route it came in by).
	Source            string            `json:"source"`
	Version           string            `json:"version"`
	Receiver          string            `json:"receiver"`
	Status            string            `json:"status"`
	OrgID             int64             `json:"orgId,omitempty"`
	Alerts            []Alert           `json:"alerts"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Title             string            `json:"title,omitempty"`
	State             string            `json:"state,omitempty"`
	Message           string            `json:"message,omitempty"`
}

// Group is what one Slack message is about: the alerts of one
// notification with the same namespace and alert name.
type Group struct {
	// Key identifies the group across notifications: source, receiver,
	// namespace and alert name (not the sender's groupKey, which spans
	// namespaces).
	Key       string  `json:"key"`
	Source    string  `json:"source"`
	Namespace string  `json:"namespace"` // "" when the alerts have none (default route)
	AlertName string  `json:"alertname"` // "" falls back to the rule's title
	Status    string  `json:"status"`    // firing if any alert fires
	Alerts    []Alert `json:"alerts"`
	// ExternalURL is the sender's (Grafana's or Alertmanager's) base URL.
	ExternalURL string `json:"externalURL,omitempty"`
	// Cluster is the first cluster label (alerting.cluster_label) of its
	// alerts, where its owner is looked up; set by the component.
	Cluster string `json:"cluster,omitempty"`
}

// Owner is what the catalog says about a group's namespace (empty when
// nobody owns it).
type Owner struct {
	Team, TeamName, Project, SlackChannel, Oncall string
	// Links are the project's (dashboard, logs, runbook…).
	Links map[string]string
}

// Decision is where and how a group is delivered: the rules' verdict.
type Decision struct {
	Channels []string `json:"channels"`
	// Mentions are Slack mention strings (<@U123>, <!subteam^S456>,
	// <!here>), empty for none.
	Mentions []string `json:"mentions,omitempty"`
	// Reminder is how often a group still firing is posted again.
	Reminder time.Duration `json:"reminder"`
}
