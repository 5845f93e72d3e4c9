package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ArgoCDTemplate is the recommended argocd-notifications webhook template
// body (docs/deployer.md shows it in a ConfigMap). Every field is a
// string as the template renders it; a field the application lacks
// renders as "<no value>" or "", which reads as absent. message goes
// through sprig's toJson because an operation's message holds quotes.
const ArgoCDTemplate = `{
  "app": "{{.app.metadata.name}}",
  "project": "{{index .app.metadata.labels "furrow.dev/project"}}",
  "team": "{{index .app.metadata.labels "furrow.dev/team"}}",
  "environment": "{{index .app.metadata.labels "furrow.dev/environment"}}",
  "region": "{{index .app.metadata.labels "furrow.dev/region"}}",
  "cluster": "{{.app.spec.destination.name}}",
  "server": "{{.app.spec.destination.server}}",
  "namespace": "{{.app.spec.destination.namespace}}",
  "revision": "{{.app.status.sync.revision}}",
  "syncStatus": "{{.app.status.sync.status}}",
  "healthStatus": "{{.app.status.health.status}}",
  "phase": "{{.app.status.operationState.phase}}",
  "message": {{toJson .app.status.operationState.message}},
  "startedAt": "{{.app.status.operationState.startedAt}}",
  "finishedAt": "{{.app.status.operationState.finishedAt}}",
  "initiatedBy": "{{.app.status.operationState.operation.initiatedBy.username}}",
  "commitAuthor": "{{(call .repo.GetCommitMetadata .app.status.sync.revision).Author}}",
  "commitTime": "{{(call .repo.GetCommitMetadata .app.status.sync.revision).Date}}",
  "images": "{{range $i, $img := .app.status.summary.images}}{{if $i}},{{end}}{{$img}}{{end}}"
}`

// ErrMalformed is wrapped by a decoder's refusal of a body it cannot read.
var ErrMalformed = errors.New("malformed deploy event")

// ErrIgnored is wrapped when a webhook is valid but records nothing (a
// GitHub event other than deployment_status, an inactive status).
var ErrIgnored = errors.New("nothing to record")

// External is what an external event names before the catalog resolves
// it: the repository or application, and the person as the source knows
// them (a GitHub login, a commit author's email).
type External struct {
	// Key is the repository (owner/name) or Argo CD application the
	// catalog maps to a project.
	Key string
	// Login is the actor as the source names them: a login, an email or
	// "Name <email>".
	Login string
}

// argoFields are the recommended template's fields, under their
// normalized names (lower case, no '_' or '-'): templates written by hand
// spell them startedAt, started_at or started-at.
var argoFields = map[string]bool{
	"app": true, "application": true, "project": true, "team": true, "environment": true, "env": true, "region": true,
	"cluster": true, "server": true, "namespace": true, "revision": true, "syncstatus": true, "healthstatus": true,
	"phase": true, "message": true, "startedat": true, "finishedat": true, "initiatedby": true, "commitauthor": true,
	"committime": true, "images": true, "image": true, "action": true, "service": true, "trigger": true,
}

func normKey(k string) string {
	return strings.NewReplacer("_", "", "-", "").Replace(strings.ToLower(strings.TrimSpace(k)))
}

// DecodeArgoCD reads an Argo CD notification rendered from ArgoCDTemplate
// (or a hand-written template with the same fields) into an event.
// receivedAt stands in for the times the template left out. Unknown
// fields are ignored; a field that is an object or an array, a time that
// does not parse or a body without an application is refused.
func DecodeArgoCD(body []byte, receivedAt time.Time) (Event, External, error) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return Event{}, External{}, fmt.Errorf("%w: the body is not a JSON object: %v", ErrMalformed, err)
	}
	if raw == nil {
		return Event{}, External{}, fmt.Errorf("%w: the body is null", ErrMalformed)
	}
	f := map[string]string{}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		nk := normKey(k)
		if !argoFields[nk] {
			continue
		}
		v, err := templateValue(raw[k])
		if err != nil {
			return Event{}, External{}, fmt.Errorf("%w: field %s: %v", ErrMalformed, k, err)
		}
		if v != "" {
			f[nk] = v
		}
	}
	app := first(f["app"], f["application"])
	if app == "" {
		return Event{}, External{}, fmt.Errorf("%w: no app (the application's name: \"app\": \"{{.app.metadata.name}}\")", ErrMalformed)
	}
	var times [3]time.Time
	for i, k := range []string{"startedat", "finishedat", "committime"} {
		if s := f[k]; s != "" {
			t, err := parseTemplateTime(s)
			if err != nil {
				return Event{}, External{}, fmt.Errorf("%w: %s %q: %v", ErrMalformed, k, s, err)
			}
			times[i] = t
		}
	}
	started, finished, commitTime := times[0], times[1], times[2]
	result, cause, err := argoResult(f["phase"], f["syncstatus"], f["healthstatus"])
	if err != nil {
		return Event{}, External{}, err
	}
	if result == ResultStarted {
		finished = time.Time{}
		if started.IsZero() {
			started = receivedAt
		}
	} else {
		if finished.IsZero() {
			finished = receivedAt
		}
		if started.IsZero() || started.After(finished) {
			started = finished
		}
	}
	action := ActionDeploy
	switch a := strings.ToLower(f["action"]); a {
	case "":
	case ActionDeploy, ActionRollback, ActionRestart, ActionScale, ActionCronJobTrigger, ActionPrune:
		action = a
	default:
		return Event{}, External{}, fmt.Errorf("%w: action %q is not deploy, rollback, restart, scale, cronjob_trigger or prune", ErrMalformed, f["action"])
	}
	cluster := f["cluster"]
	if cluster == "" && f["server"] != "" {
		cluster = f["server"]
		if u, err := url.Parse(f["server"]); err == nil && u.Host != "" {
			cluster = u.Host
		}
	}
	image := f["image"]
	if image == "" {
		image, _, _ = strings.Cut(f["images"], ",")
	}
	revision := f["revision"]
	commitSHA := ""
	if isHexSHA(revision) {
		commitSHA = revision
	}
	// One sync operation: the application and when it started (else the
	// revision): its Running and Succeeded notifications share the id.
	opKey := app + "\x00" + first(f["startedat"], revision)
	login := f["initiatedby"]
	if login == "" || strings.EqualFold(login, "automated") || strings.EqualFold(login, "argocd") {
		login = f["commitauthor"]
	}
	e := Event{
		At:           first(finished, started),
		DeployID:     hashID(opKey),
		Source:       SourceArgoCD,
		Project:      first(f["project"], app),
		Service:      first(f["service"], app),
		Team:         f["team"],
		Environment:  first(f["environment"], f["env"], f["namespace"]),
		Region:       f["region"],
		Cluster:      cluster,
		Action:       action,
		Result:       result,
		FailureCause: cause,
		Message:      f["message"],
		Revision:     revision,
		Image:        strings.TrimSpace(image),
		StartedAt:    started,
		FinishedAt:   finished,
		CommitSHA:    commitSHA,
		CommitTime:   commitTime,
		ExternalID:   "argocd:" + app + "/" + first(f["startedat"], revision) + "/" + result + "/" + cause,
	}
	if e.Environment == "" {
		return Event{}, External{}, fmt.Errorf("%w: no environment (a label furrow.dev/environment, or the destination namespace)", ErrMalformed)
	}
	return checked(e, External{Key: app, Login: login})
}

// checked normalizes a decoded event; one the table cannot hold (a time
// out of its range) is malformed.
func checked(e Event, ext External) (Event, External, error) {
	n, err := e.Normalize()
	if err != nil {
		return Event{}, External{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return n, ext, nil
}

// argoResult reads the sync operation's phase (Running, Succeeded,
// Failed, Error, Terminating) and, without one, the sync and health
// statuses.
func argoResult(phase, sync, health string) (result, cause string, err error) {
	degraded := strings.EqualFold(health, "Degraded")
	switch strings.ToLower(phase) {
	case "running":
		return ResultStarted, "", nil
	case "succeeded":
		if degraded {
			return ResultFailed, "Degraded", nil
		}
		return ResultSucceeded, "", nil
	case "failed":
		return ResultFailed, "SyncFailed", nil
	case "error":
		return ResultFailed, "SyncError", nil
	case "terminating":
		return ResultCancelled, "", nil
	case "":
	default:
		return "", "", fmt.Errorf("%w: phase %q is not Running, Succeeded, Failed, Error or Terminating", ErrMalformed, phase)
	}
	switch {
	case degraded:
		return ResultFailed, "Degraded", nil
	case strings.EqualFold(health, "Progressing"):
		return ResultStarted, "", nil
	case strings.EqualFold(sync, "Synced") && (health == "" || strings.EqualFold(health, "Healthy")):
		return ResultSucceeded, "", nil
	}
	return "", "", fmt.Errorf("%w: cannot tell the result: no phase, sync status %q, health %q (send phase: {{.app.status.operationState.phase}})", ErrMalformed, sync, health)
}

// templateValue is a field as a template renders it: a string ("<no
// value>" is absent), a number or a boolean as text, null as absent.
func templateValue(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		s = strings.TrimSpace(s)
		if s == "<no value>" || s == "<nil>" {
			return "", nil
		}
		return s, nil
	case '{', '[':
		return "", errors.New("an object or array, expected a string")
	}
	return string(raw), nil // a number or a boolean
}

// templateTimeLayouts are how a template prints a time: RFC 3339 from the
// application's JSON, Go's time.String from a commit's metadata.
var templateTimeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999 -0700 MST",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05",
}

func parseTemplateTime(s string) (time.Time, error) {
	s, _, _ = strings.Cut(s, " m=") // time.String's monotonic reading
	for _, l := range templateTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	if n, err := strconv.ParseFloat(s, 64); err == nil && n > 0 && n < 1e11 && !math.IsInf(n, 0) {
		sec, frac := math.Modf(n)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	}
	return time.Time{}, errors.New("not an RFC 3339 time, a Go time or Unix seconds")
}

func isHexSHA(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// hashID is a positive int64 standing for key (FNV-1a), the deploy id of
// an event whose source has none.
func hashID(key string) int64 {
	h := fnv.New64a()
	h.Write([]byte(key))
	return int64(h.Sum64() & math.MaxInt64)
}

func first[T comparable](vs ...T) T {
	var zero T
	for _, v := range vs {
		if v != zero {
			return v
		}
	}
	return zero
}
