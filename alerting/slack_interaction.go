package alerting

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/slack-go/slack"
)

// Interaction errors; all of them mean 401 except ErrInteractionPayload
// (400).
var (
	ErrInteractionUnsigned = errors.New("slack interaction: missing X-Slack-Signature or X-Slack-Request-Timestamp")
	ErrInteractionStale    = errors.New("slack interaction: timestamp outside the 5-minute window (replayed, or a clock is wrong)")
	ErrInteractionInvalid  = errors.New("slack interaction: signature does not match the signing secret")
	ErrInteractionPayload  = errors.New("slack interaction: not a snooze click")
)

// maxInteractionBody bounds what is read from an interaction request;
// Slack's payloads for a button click are a few kilobytes.
const maxInteractionBody = 1 << 20

// interactionWindow is how far the request's timestamp may be from now.
const interactionWindow = 5 * time.Minute

// VerifyInteraction checks Slack's signature on an interaction request (v0
// HMAC-SHA256 of "v0:timestamp:body" with the signing secret) and that its
// timestamp is within 5 minutes of now, and returns the body. now is the
// wall clock: slack-go's verifier checks the window against it too.
func VerifyInteraction(r *http.Request, signingSecret string, now time.Time) ([]byte, error) {
	if signingSecret == "" {
		return nil, errors.New("slack interaction: no signing secret configured (alerting.slack.signing_secret)")
	}
	sig, stamp := r.Header.Get("X-Slack-Signature"), r.Header.Get("X-Slack-Request-Timestamp")
	if sig == "" || stamp == "" {
		return nil, ErrInteractionUnsigned
	}
	sec, err := strconv.ParseInt(stamp, 10, 64)
	if err != nil {
		return nil, ErrInteractionStale
	}
	if d := now.Sub(time.Unix(sec, 0)); d > interactionWindow || d < -interactionWindow {
		return nil, ErrInteractionStale
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxInteractionBody+1))
	if err != nil {
		return nil, fmt.Errorf("slack interaction: read body: %w", err)
	}
	if len(body) > maxInteractionBody {
		return nil, fmt.Errorf("%w: body over %d bytes", ErrInteractionPayload, maxInteractionBody)
	}
	v, err := slack.NewSecretsVerifier(r.Header, signingSecret)
	switch {
	case errors.Is(err, slack.ErrExpiredTimestamp):
		return nil, ErrInteractionStale
	case err != nil:
		return nil, ErrInteractionInvalid
	}
	if _, err := v.Write(body); err != nil {
		return nil, ErrInteractionInvalid
	}
	if err := v.Ensure(); err != nil {
		return nil, ErrInteractionInvalid
	}
	return body, nil
}

// ParseSnooze decodes a snooze click from a verified interaction body (a
// form with the JSON in "payload", type block_actions). d is zero when
// untilResolved; user is the Slack user id of who clicked.
func ParseSnooze(body []byte) (groupKey string, d time.Duration, untilResolved bool, user string, err error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return "", 0, false, "", fmt.Errorf("%w: %v", ErrInteractionPayload, err)
	}
	raw := form.Get("payload")
	if raw == "" {
		return "", 0, false, "", fmt.Errorf("%w: no payload field", ErrInteractionPayload)
	}
	var cb slack.InteractionCallback
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	if err := dec.Decode(&cb); err != nil {
		return "", 0, false, "", fmt.Errorf("%w: %v", ErrInteractionPayload, err)
	}
	if cb.Type != slack.InteractionTypeBlockActions {
		return "", 0, false, "", fmt.Errorf("%w: type %q", ErrInteractionPayload, cb.Type)
	}
	for _, a := range cb.ActionCallback.BlockActions {
		if a == nil {
			continue
		}
		// The buttons Render draws say what each action snoozes for.
		want := ""
		for _, b := range snoozeButtons {
			if b.action == a.ActionID {
				want = b.dur
			}
		}
		if want == "" {
			continue
		}
		var v snoozeValue
		if err := json.Unmarshal([]byte(a.Value), &v); err != nil {
			return "", 0, false, "", fmt.Errorf("%w: button value: %v", ErrInteractionPayload, err)
		}
		// The duration comes from the action id, not the value: a value
		// cannot turn a 1h button into a year.
		if v.For != want || v.Group == "" {
			return "", 0, false, "", fmt.Errorf("%w: button value does not match %s", ErrInteractionPayload, a.ActionID)
		}
		if cb.User.ID == "" {
			return "", 0, false, "", fmt.Errorf("%w: no user", ErrInteractionPayload)
		}
		if want == "resolved" {
			return v.Group, 0, true, cb.User.ID, nil
		}
		d, _ := time.ParseDuration(want)
		return v.Group, d, false, cb.User.ID, nil
	}
	return "", 0, false, "", fmt.Errorf("%w: no snooze action", ErrInteractionPayload)
}
