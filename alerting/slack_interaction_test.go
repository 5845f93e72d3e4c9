package alerting

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

const testSigningSecret = "8f742231b10e8888abcd99yyyzzz85a5"

// sign computes Slack's v0 signature the way Slack documents it, without
// slack-go, so that the test does not check the library against itself.
func sign(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("v0:" + ts + ":"))
	m.Write(body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

// clickBody is the form Slack posts when a button of a rendered message is
// clicked: the button's action id and value come from Render itself.
func clickBody(t testing.TB, action string, groupKey string, user string) []byte {
	t.Helper()
	blocks := Render(Group{Key: groupKey, Namespace: "payments", AlertName: "Ingress5xx", Status: StatusFiring,
		Alerts: []Alert{{Status: StatusFiring}}}, Owner{}, Decision{}, DefaultRenderOptions())
	var value string
	for _, b := range blocks {
		if a, ok := b.(*slack.ActionBlock); ok {
			for _, e := range a.Elements.ElementSet {
				if btn := e.(*slack.ButtonBlockElement); btn.ActionID == action {
					value = btn.Value
				}
			}
		}
	}
	if value == "" {
		t.Fatalf("no button %s rendered", action)
	}
	payload := map[string]any{
		"type":    "block_actions",
		"user":    map[string]any{"id": user, "username": "jdoe", "team_id": "T0001"},
		"team":    map[string]any{"id": "T0001", "domain": "furrow"},
		"channel": map[string]any{"id": "C0001", "name": "payments-alerts"},
		"message": map[string]any{"type": "message", "ts": "1700000000.000001"},
		"actions": []map[string]any{{
			"type": "button", "action_id": action, "block_id": "snooze", "value": value,
			"text": map[string]any{"type": "plain_text", "text": "Snooze"}, "action_ts": "1700000100.000200",
		}},
		"response_url": "https://hooks.slack.com/actions/T0001/1/abc",
		"trigger_id":   "1.2.3",
	}
	b, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(url.Values{"payload": {string(b)}}.Encode())
}

func TestInteractionVerify(t *testing.T) {
	now := time.Now()
	body := clickBody(t, ActionSnooze6h, "grafana/slack/payments/Ingress5xx", "U0JDOE")
	stamp := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	cases := []struct {
		name      string
		ts, sig   string
		body      []byte
		secret    string
		wantErr   error
		wantValid bool
	}{
		{name: "signed", ts: stamp(0), sig: sign(testSigningSecret, stamp(0), body), wantValid: true},
		{name: "signed 4 minutes ago", ts: stamp(-4 * time.Minute), sig: sign(testSigningSecret, stamp(-4*time.Minute), body), wantValid: true},
		{name: "unsigned", wantErr: ErrInteractionUnsigned},
		{name: "no timestamp", sig: sign(testSigningSecret, stamp(0), body), wantErr: ErrInteractionUnsigned},
		{name: "stale", ts: stamp(-6 * time.Minute), sig: sign(testSigningSecret, stamp(-6*time.Minute), body), wantErr: ErrInteractionStale},
		{name: "future", ts: stamp(6 * time.Minute), sig: sign(testSigningSecret, stamp(6*time.Minute), body), wantErr: ErrInteractionStale},
		{name: "timestamp not a number", ts: "yesterday", sig: sign(testSigningSecret, "yesterday", body), wantErr: ErrInteractionStale},
		{name: "other secret", ts: stamp(0), sig: sign("another-secret", stamp(0), body), wantErr: ErrInteractionInvalid},
		{name: "body changed", ts: stamp(0), sig: sign(testSigningSecret, stamp(0), body),
			body: clickBody(t, ActionSnooze1d, "grafana/slack/payments/Ingress5xx", "U0JDOE"), wantErr: ErrInteractionInvalid},
		{name: "timestamp changed", ts: stamp(-time.Second), sig: sign(testSigningSecret, stamp(0), body), wantErr: ErrInteractionInvalid},
		{name: "not v0", ts: stamp(0), sig: "v1=" + strings.TrimPrefix(sign(testSigningSecret, stamp(0), body), "v0="), wantErr: ErrInteractionInvalid},
		{name: "not hex", ts: stamp(0), sig: "v0=zz", wantErr: ErrInteractionInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := body
			if c.body != nil {
				b = c.body
			}
			r := httptest.NewRequest(http.MethodPost, "/api/v1/slack/interactions", strings.NewReader(string(b)))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if c.ts != "" {
				r.Header.Set("X-Slack-Request-Timestamp", c.ts)
			}
			if c.sig != "" {
				r.Header.Set("X-Slack-Signature", c.sig)
			}
			got, err := VerifyInteraction(r, testSigningSecret, now)
			if c.wantValid {
				if err != nil || string(got) != string(b) {
					t.Fatalf("valid request refused: %v", err)
				}
				return
			}
			if !errors.Is(err, c.wantErr) || got != nil {
				t.Fatalf("got %v (body %d bytes), want %v", err, len(got), c.wantErr)
			}
		})
	}

	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
	if _, err := VerifyInteraction(r, "", now); err == nil {
		t.Error("no signing secret configured, request accepted")
	}
}

func TestSnoozeParse(t *testing.T) {
	key := "grafana/slack/payments/Ingress5xx"
	cases := []struct {
		action string
		d      time.Duration
		until  bool
	}{
		{ActionSnooze1h, time.Hour, false},
		{ActionSnooze6h, 6 * time.Hour, false},
		{ActionSnooze1d, 24 * time.Hour, false},
		{ActionSnoozeResolved, 0, true},
	}
	for _, c := range cases {
		t.Run(c.action, func(t *testing.T) {
			g, d, until, user, err := ParseSnooze(clickBody(t, c.action, key, "U0JDOE"))
			if err != nil || g != key || d != c.d || until != c.until || user != "U0JDOE" {
				t.Fatalf("got %q %s %v %q %v", g, d, until, user, err)
			}
		})
	}

	forged := func(action, value string) []byte {
		p, _ := json.Marshal(map[string]any{"type": "block_actions", "user": map[string]any{"id": "U1"},
			"actions": []map[string]any{{"type": "button", "action_id": action, "value": value}}})
		return []byte(url.Values{"payload": {string(p)}}.Encode())
	}
	bad := []struct {
		name string
		body []byte
	}{
		{"empty", nil},
		{"no payload", []byte("foo=bar")},
		{"payload not JSON", []byte("payload=%7Bnope")},
		{"bad form", []byte("payload=%zz")},
		{"view submission", []byte(url.Values{"payload": {`{"type":"view_submission","user":{"id":"U1"}}`}}.Encode())},
		{"other action", forged("approve", `{"group":"g","for":"1h"}`)},
		{"value says a year", forged(ActionSnooze1h, `{"group":"g","for":"8760h"}`)},
		{"value not JSON", forged(ActionSnooze1h, `g|1h`)},
		{"no group", forged(ActionSnooze1h, `{"for":"1h"}`)},
		{"no user", []byte(url.Values{"payload": {`{"type":"block_actions","actions":[{"action_id":"snooze_1h","value":"{\"group\":\"g\",\"for\":\"1h\"}"}]}`}}.Encode())},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			if _, _, _, _, err := ParseSnooze(c.body); !errors.Is(err, ErrInteractionPayload) {
				t.Fatalf("accepted or wrong error: %v", err)
			}
		})
	}
}

// FuzzSnoozeParse: any body gives a snooze with a group, a user and one of
// the four durations, or ErrInteractionPayload; never a panic.
func FuzzSnoozeParse(f *testing.F) {
	for _, a := range []string{ActionSnooze1h, ActionSnooze6h, ActionSnooze1d, ActionSnoozeResolved} {
		f.Add(clickBody(f, a, "grafana/slack/payments/Ingress5xx", "U0JDOE"))
	}
	f.Add([]byte("payload=%7B%7D"))
	f.Add([]byte(`payload={"type":"block_actions","actions":[null]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		g, d, until, user, err := ParseSnooze(body)
		if err != nil {
			if !errors.Is(err, ErrInteractionPayload) {
				t.Fatalf("error not wrapping ErrInteractionPayload: %v", err)
			}
			return
		}
		if g == "" || user == "" {
			t.Fatalf("accepted without group or user: %q %q", g, user)
		}
		switch {
		case until && d == 0:
		case !until && (d == time.Hour || d == 6*time.Hour || d == 24*time.Hour):
		default:
			t.Fatalf("duration %s, until resolved %v", d, until)
		}
	})
}
