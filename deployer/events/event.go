// Package events records deploy events in ClickHouse (deploy_events,
// migration 0016): the deployer writes a row for every step of every
// action (deploy, rollback, restart, scale, CronJob trigger, prune) through
// Writer, and external deploy systems post theirs to furrow's webhooks
// (Argo CD notifications, GitHub deployment_status events), decoded here
// into the same rows. The operating and DORA metrics (query/deploys) and
// the Grafana annotations read the table.
package events

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Table is the ClickHouse table of deploy events.
const Table = "deploy_events"

// Sources of deploy events.
const (
	SourceFurrow = "furrow"
	SourceArgoCD = "argocd"
	SourceGitHub = "github"
)

// Actions a deploy event records.
const (
	ActionDeploy         = "deploy"
	ActionRollback       = "rollback"
	ActionRestart        = "restart"
	ActionScale          = "scale"
	ActionCronJobTrigger = "cronjob_trigger"
	ActionPrune          = "prune"
)

// Results of a step: an action starts, then succeeds, fails or is
// cancelled.
const (
	ResultStarted   = "started"
	ResultSucceeded = "succeeded"
	ResultFailed    = "failed"
	ResultCancelled = "cancelled"
)

// Failure causes the deployer reports (deployer/kube's Cause.Reason and the
// deployer's own refusals). Other causes are stored as given: an external
// source names its own (Argo CD's Degraded, SyncFailed).
const (
	CauseImagePullBackOff = "ImagePullBackOff"
	CauseCrashLoopBackOff = "CrashLoopBackOff"
	CauseUnschedulable    = "Unschedulable"
	CauseProbeFailing     = "ProbeFailing"
	CauseQuota            = "Quota"
	CauseTimeout          = "Timeout"
	CauseLockConflict     = "LockConflict"
	CauseRenderError      = "RenderError"
)

// Bounds of the free-text fields: a message is a reason and a few log
// lines, not a whole log; longer ones are cut (marked with "…").
const (
	maxMessageBytes = 4096
	maxFieldBytes   = 512
)

// ErrInvalid is wrapped by the refusal of an event that cannot be stored.
var ErrInvalid = errors.New("invalid deploy event")

// Event is one deploy_events row: one step (started or a result) of one
// action on one target cluster.
type Event struct {
	// At is when the step happened; zero takes FinishedAt, else
	// StartedAt.
	At time.Time `json:"at"`
	// DeployID is furrow's deploy id; GitHub's deployment id; for Argo CD
	// a hash of the application and the sync's start.
	DeployID int64 `json:"deploy_id"`
	// Source is furrow, argocd or github.
	Source string `json:"source"`
	// Project is the catalog's project id.
	Project string `json:"project"`
	// Service is the deployed service (the spec's name).
	Service string `json:"service,omitempty"`
	// Team is the owning team's stable code.
	Team        string `json:"team,omitempty"`
	Environment string `json:"environment"`
	Region      string `json:"region,omitempty"`
	Cluster     string `json:"cluster,omitempty"`
	// Action is deploy, rollback, restart, scale, cronjob_trigger or
	// prune.
	Action string `json:"action"`
	// Result is started, succeeded, failed or cancelled.
	Result string `json:"result"`
	// FailureCause names why a failed step failed (a Cause constant or
	// the source's own word); empty unless Result is failed.
	FailureCause string `json:"failure_cause,omitempty"`
	// Message says more: the cause's message, the last log lines.
	Message       string `json:"message,omitempty"`
	Revision      string `json:"revision,omitempty"`
	Image         string `json:"image,omitempty"`
	PreviousImage string `json:"previous_image,omitempty"`
	// Actor is the employee id from the catalog (not a Git identity);
	// ActorName the person's name.
	Actor     string `json:"actor,omitempty"`
	ActorName string `json:"actor_name,omitempty"`
	// StartedAt is when the action started; zero takes At.
	StartedAt time.Time `json:"started_at"`
	// FinishedAt is when it ended; zero on a started step.
	FinishedAt time.Time `json:"finished_at,omitzero"`
	CommitSHA  string    `json:"commit_sha,omitempty"`
	// CommitTime is the deployed commit's time, when known: lead time
	// runs from it to FinishedAt.
	CommitTime time.Time `json:"commit_time,omitzero"`
	// ReplicasFrom and ReplicasTo are a scale's replicas before and asked
	// for; nil otherwise.
	ReplicasFrom *int32 `json:"replicas_from,omitempty"`
	ReplicasTo   *int32 `json:"replicas_to,omitempty"`
	// ExternalID is the external source's id of this event: a webhook
	// delivered again with the same id is stored once.
	ExternalID string `json:"external_id,omitempty"`
}

// Duration is FinishedAt - StartedAt, zero while started (or when the
// clocks disagree).
func (e Event) Duration() time.Duration {
	if e.FinishedAt.IsZero() || e.StartedAt.IsZero() || e.FinishedAt.Before(e.StartedAt) {
		return 0
	}
	return e.FinishedAt.Sub(e.StartedAt)
}

// Normalize fills the defaults (At from FinishedAt or StartedAt,
// StartedAt from At), converts times to UTC milliseconds and cuts long
// text, then validates.
func (e Event) Normalize() (Event, error) {
	ms := func(t time.Time) time.Time {
		if t.IsZero() {
			return t
		}
		return t.UTC().Truncate(time.Millisecond)
	}
	e.At, e.StartedAt, e.FinishedAt, e.CommitTime = ms(e.At), ms(e.StartedAt), ms(e.FinishedAt), ms(e.CommitTime)
	if e.At.IsZero() {
		if !e.FinishedAt.IsZero() {
			e.At = e.FinishedAt
		} else {
			e.At = e.StartedAt
		}
	}
	if e.StartedAt.IsZero() {
		e.StartedAt = e.At
	}
	e.Message = truncateUTF8(strings.ToValidUTF8(e.Message, "\uFFFD"), maxMessageBytes)
	for _, f := range []*string{&e.Project, &e.Service, &e.Team, &e.Environment, &e.Region, &e.Cluster, &e.FailureCause,
		&e.Revision, &e.Image, &e.PreviousImage, &e.Actor, &e.ActorName, &e.CommitSHA, &e.ExternalID} {
		*f = truncateUTF8(strings.ToValidUTF8(strings.TrimSpace(*f), "\uFFFD"), maxFieldBytes)
	}
	return e, e.Validate()
}

// Validate reports every reason e cannot be stored.
func (e Event) Validate() error {
	var errs []string
	switch e.Source {
	case SourceFurrow, SourceArgoCD, SourceGitHub:
	default:
		errs = append(errs, fmt.Sprintf("source %q is not furrow, argocd or github", e.Source))
	}
	switch e.Action {
	case ActionDeploy, ActionRollback, ActionRestart, ActionScale, ActionCronJobTrigger, ActionPrune:
	default:
		errs = append(errs, fmt.Sprintf("action %q is not deploy, rollback, restart, scale, cronjob_trigger or prune", e.Action))
	}
	switch e.Result {
	case ResultStarted:
		if !e.FinishedAt.IsZero() {
			errs = append(errs, "a started step has no finished_at")
		}
	case ResultSucceeded, ResultFailed, ResultCancelled:
		if e.FinishedAt.IsZero() {
			errs = append(errs, "result "+e.Result+" needs finished_at")
		}
	default:
		errs = append(errs, fmt.Sprintf("result %q is not started, succeeded, failed or cancelled", e.Result))
	}
	if e.FailureCause != "" && e.Result != ResultFailed {
		errs = append(errs, "failure_cause is only for a failed step")
	}
	if e.Project == "" {
		errs = append(errs, "no project")
	}
	if e.Environment == "" {
		errs = append(errs, "no environment")
	}
	if e.Source == SourceFurrow && e.DeployID <= 0 {
		errs = append(errs, "a furrow event needs its deploy id")
	}
	if e.Source != SourceFurrow && e.Source != "" && e.ExternalID == "" {
		errs = append(errs, "an external event needs its external_id")
	}
	for _, t := range []struct {
		name string
		v    time.Time
	}{{"at", e.At}, {"started_at", e.StartedAt}, {"finished_at", e.FinishedAt}, {"commit_time", e.CommitTime}} {
		if !t.v.IsZero() && (t.v.Year() < 1970 || t.v.Year() > 2261) {
			errs = append(errs, fmt.Sprintf("%s %s is outside 1970-2261", t.name, t.v.Format(time.RFC3339)))
		}
	}
	if e.At.IsZero() {
		errs = append(errs, "no time (at, started_at or finished_at)")
	}
	if !e.FinishedAt.IsZero() && !e.StartedAt.IsZero() && e.FinishedAt.Before(e.StartedAt) {
		errs = append(errs, "finished_at is before started_at")
	}
	if (e.ReplicasFrom != nil && *e.ReplicasFrom < 0) || (e.ReplicasTo != nil && *e.ReplicasTo < 0) {
		errs = append(errs, "negative replicas")
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(errs, "; "))
}

// truncateUTF8 cuts s to at most n bytes without splitting a character,
// marking the cut with "…".
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
