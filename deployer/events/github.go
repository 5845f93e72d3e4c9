package events

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// GitHub's webhook headers.
const (
	GitHubEventHeader     = "X-GitHub-Event"
	GitHubSignatureHeader = "X-Hub-Signature-256"
	GitHubDeliveryHeader  = "X-GitHub-Delivery"
)

// githubStatus is the part of a deployment_status webhook furrow reads
// (docs.github.com, "Webhook events and payloads", deployment_status).
type githubStatus struct {
	Action           string `json:"action"`
	DeploymentStatus *struct {
		ID          int64      `json:"id"`
		State       string     `json:"state"`
		Description string     `json:"description"`
		Environment string     `json:"environment"`
		LogURL      string     `json:"log_url"`
		TargetURL   string     `json:"target_url"`
		CreatedAt   time.Time  `json:"created_at"`
		UpdatedAt   time.Time  `json:"updated_at"`
		Creator     githubUser `json:"creator"`
	} `json:"deployment_status"`
	Deployment *struct {
		ID          int64           `json:"id"`
		SHA         string          `json:"sha"`
		Ref         string          `json:"ref"`
		Task        string          `json:"task"`
		Environment string          `json:"environment"`
		Description string          `json:"description"`
		Payload     json.RawMessage `json:"payload"`
		Creator     githubUser      `json:"creator"`
		CreatedAt   time.Time       `json:"created_at"`
	} `json:"deployment"`
	Repository *struct {
		Name     string `json:"name"`
		FullName string `json:"full_name"`
	} `json:"repository"`
	Sender githubUser `json:"sender"`
}

type githubUser struct {
	Login string `json:"login"`
}

// CheckGitHubSignature says why the X-Hub-Signature-256 header (sig) does
// not sign body with secret, "" when it does. The comparison takes the
// same time whatever the mismatch.
func CheckGitHubSignature(secret, sig string, body []byte) string {
	if sig == "" {
		return "missing " + GitHubSignatureHeader + " (deployer.events.github_secret is set: give the webhook the same secret)"
	}
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(sig), "sha256=")
	if !ok {
		return GitHubSignatureHeader + ": expected sha256=<hex>"
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return GitHubSignatureHeader + ": not hex"
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return GitHubSignatureHeader + ": does not match the body and deployer.events.github_secret"
	}
	return ""
}

// DecodeGitHub reads a GitHub webhook of type event (the X-GitHub-Event
// header) into an event. Another type than deployment_status, and an
// inactive status (a newer deployment superseded it), wrap ErrIgnored.
func DecodeGitHub(event string, body []byte) (Event, External, error) {
	if event != "deployment_status" {
		return Event{}, External{}, fmt.Errorf("%w: %s events are not deploy events (subscribe the webhook to deployment statuses only)", ErrIgnored, strconv.Quote(event))
	}
	var p githubStatus
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&p); err != nil {
		return Event{}, External{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	switch {
	case p.DeploymentStatus == nil:
		return Event{}, External{}, fmt.Errorf("%w: no deployment_status", ErrMalformed)
	case p.Deployment == nil:
		return Event{}, External{}, fmt.Errorf("%w: no deployment", ErrMalformed)
	case p.Repository == nil || p.Repository.FullName == "":
		return Event{}, External{}, fmt.Errorf("%w: no repository", ErrMalformed)
	case p.DeploymentStatus.ID == 0 || p.Deployment.ID == 0:
		return Event{}, External{}, fmt.Errorf("%w: no deployment or status id", ErrMalformed)
	}
	st, d := p.DeploymentStatus, p.Deployment
	var result, cause string
	switch strings.ToLower(st.State) {
	case "queued", "pending", "in_progress":
		result = ResultStarted
	case "success":
		result = ResultSucceeded
	case "failure":
		result, cause = ResultFailed, "Failure"
	case "error":
		result, cause = ResultFailed, "Error"
	case "inactive":
		return Event{}, External{}, fmt.Errorf("%w: an inactive status (a later deployment replaced this one)", ErrIgnored)
	default:
		return Event{}, External{}, fmt.Errorf("%w: state %q is not queued, pending, in_progress, success, failure, error or inactive", ErrMalformed, st.State)
	}
	at := first(st.CreatedAt, st.UpdatedAt)
	started := first(d.CreatedAt, at)
	var finished time.Time
	if result != ResultStarted {
		finished = at
		if started.After(finished) {
			started = finished
		}
	}
	action := ActionDeploy
	if task := strings.ToLower(d.Task); strings.Contains(task, "rollback") {
		action = ActionRollback
	}
	// The deployment's payload is the deployer's own JSON: region and
	// cluster are read when it is an object holding them as strings.
	var extra struct {
		Region  any `json:"region"`
		Cluster any `json:"cluster"`
		Service any `json:"service"`
	}
	if len(d.Payload) > 0 && d.Payload[0] == '{' {
		_ = json.Unmarshal(d.Payload, &extra)
	}
	str := func(v any) string { s, _ := v.(string); return s }
	msg := st.Description
	if u := first(st.LogURL, st.TargetURL); u != "" {
		msg = strings.TrimSpace(msg + " " + u)
	}
	commitSHA := ""
	if isHexSHA(strings.ToLower(d.SHA)) {
		commitSHA = strings.ToLower(d.SHA)
	}
	e := Event{
		At:           at,
		DeployID:     d.ID,
		Source:       SourceGitHub,
		Project:      first(p.Repository.Name, p.Repository.FullName),
		Service:      first(str(extra.Service), p.Repository.Name),
		Environment:  first(st.Environment, d.Environment),
		Region:       str(extra.Region),
		Cluster:      str(extra.Cluster),
		Action:       action,
		Result:       result,
		FailureCause: cause,
		Message:      msg,
		Revision:     first(d.Ref, d.SHA),
		StartedAt:    started,
		FinishedAt:   finished,
		CommitSHA:    commitSHA,
		ExternalID:   "github:deployment_status:" + strconv.FormatInt(st.ID, 10),
	}
	if e.Environment == "" {
		return Event{}, External{}, fmt.Errorf("%w: no environment", ErrMalformed)
	}
	if e.At.IsZero() {
		return Event{}, External{}, fmt.Errorf("%w: no created_at", ErrMalformed)
	}
	return checked(e, External{Key: p.Repository.FullName, Login: first(d.Creator.Login, st.Creator.Login, p.Sender.Login)})
}
