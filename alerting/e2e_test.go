package alerting

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/internal/testenv/slackapi"
	"github.com/furrowdev/furrow/state"
	"github.com/furrowdev/furrow/state/statetest"
)

const (
	e2eToken   = "xoxb-e2e-token-Zq7x9KpW"
	e2eBearer  = "am-bearer-Kp3mV8rT2n"
	e2eHMAC    = "grafana-hmac-Yc7x9Zq"
	e2eChannel = "#alerts"
)

// e2e is the component on a real store, its routes on a gin engine, and
// the local Slack API; the clock is the test's.
type e2e struct {
	t      *testing.T
	c      *Component
	slack  *slackapi.Server
	engine *gin.Engine
	reg    *prometheus.Registry
	logs   *bytes.Buffer

	mu  sync.Mutex
	now time.Time
}

func newE2E(t *testing.T, st *state.Store) *e2e {
	t.Helper()
	return newE2EWith(t, st, nil)
}

// newE2EWith is newE2E with the ClickHouse history h (nil: none).
func newE2EWith(t *testing.T, st *state.Store, h *History) *e2e {
	t.Helper()
	e := &e2e{t: t, slack: slackapi.New(t, e2eToken), reg: prometheus.NewRegistry(), logs: &bytes.Buffer{}, now: time.Now().UTC()}
	cfg := DefaultConfiguration()
	cfg.Enabled = true
	cfg.Slack.APIURL = e.slack.URL()
	cfg.Slack.Token = e2eToken
	cfg.Slack.SigningSecret = testSigningSecret
	cfg.DefaultChannel = e2eChannel
	cfg.Sources.Alertmanager.BearerToken = e2eBearer
	cfg.Sources.Grafana.HMACSecret = e2eHMAC
	cfg.ReportInterval = 0 // TestE2EReport turns them on
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := New(cfg, Dependencies{State: st, Registry: e.reg, Now: e.clock, Logger: logger, History: h})
	require.NoError(t, err)
	e.c = c
	gin.SetMode(gin.ReleaseMode)
	e.engine = gin.New()
	// The webhooks with their own credentials and the interactions go to
	// the public group; a token group stands for the API's ingest scope.
	tokenGroup := e.engine.Group("/api/v1", func(ctx *gin.Context) {
		if ctx.GetHeader("X-Test-Token") != "ingest" {
			ctx.AbortWithStatus(http.StatusUnauthorized)
		}
	})
	c.Routes(tokenGroup, e.engine.Group("/api/v1"))
	return e
}

func (e *e2e) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *e2e) advance(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = e.now.Add(d)
}

func (e *e2e) do(req *http.Request) (int, string) {
	w := httptest.NewRecorder()
	e.engine.ServeHTTP(w, req)
	return w.Code, w.Body.String()
}

func (e *e2e) alertmanager(body []byte, bearer string) (int, string) {
	req := httptest.NewRequest(http.MethodPost, "/api/v1/alerts/alertmanager", bytes.NewReader(body))
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return e.do(req)
}

// grafanaSign is Grafana's HMAC as its documentation states it: hex
// HMAC-SHA256 of "timestamp:body" (of the body alone without timestamp).
func grafanaSign(secret, stamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	if stamp != "" {
		m.Write([]byte(stamp + ":"))
	}
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

func (e *e2e) grafana(body []byte, sig, stamp string) (int, string) {
	req := httptest.NewRequest(http.MethodPost, "/api/v1/alerts/grafana", bytes.NewReader(body))
	if sig != "" {
		req.Header.Set(GrafanaSignatureHeader, sig)
	}
	if stamp != "" {
		req.Header.Set(GrafanaTimestampHeader, stamp)
	}
	return e.do(req)
}

func (e *e2e) post(source string, body []byte) (int, string) {
	if source == SourceGrafana {
		stamp := strconv.FormatInt(e.clock().Unix(), 10)
		return e.grafana(body, grafanaSign(e2eHMAC, stamp, body), stamp)
	}
	return e.alertmanager(body, e2eBearer)
}

func (e *e2e) deliver() { e.c.Deliver(context.Background()) }

func (e *e2e) callsSince(n int) []slackapi.Call { return e.slack.Calls()[n:] }

func recorded(t *testing.T, body string) Recorded {
	t.Helper()
	var r Recorded
	require.NoError(t, json.Unmarshal([]byte(body), &r), body)
	return r
}

// amPayload is an Alertmanager notification of one alert per namespace.
func amPayload(status, alertname string, namespaces ...string) []byte {
	var alerts []string
	for _, ns := range namespaces {
		alerts = append(alerts, `{"status":"`+status+`","labels":{"alertname":"`+alertname+`","namespace":"`+ns+`","severity":"critical"},"annotations":{"summary":"errors in `+ns+`"},"startsAt":"2026-12-07T09:00:00Z","endsAt":"0001-01-01T00:00:00Z"}`)
	}
	return []byte(`{"version":"4","receiver":"furrow","status":"` + status + `","groupKey":"{}:{alertname=\"` + alertname + `\"}","alerts":[` + strings.Join(alerts, ",") + `]}`)
}

func e2ePayloads(t *testing.T) []string {
	files, _ := filepath.Glob("../../shared/testdata/alerts/*.json")
	if len(files) == 0 {
		files, _ = filepath.Glob("/work/shared/testdata/alerts/*.json")
	}
	if len(files) == 0 {
		t.Skip("no shared payloads in ../shared/testdata/alerts")
	}
	return files
}

// TestE2ESharedPayloads posts every shared payload through its route: one
// message per firing group, in the default channel; the same payload
// again posts nothing.
func TestE2ESharedPayloads(t *testing.T) {
	for _, path := range e2ePayloads(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			body, err := os.ReadFile(path)
			require.NoError(t, err)
			source := SourceAlertmanager
			var head struct {
				Version any `json:"version"`
			}
			require.NoError(t, json.Unmarshal(body, &head))
			if head.Version == "1" {
				source = SourceGrafana
			}
			st, err := state.Open(context.Background(), state.DefaultConfiguration(), t.TempDir())
			require.NoError(t, err)
			t.Cleanup(func() { _ = st.Close() })
			e := newE2E(t, st)

			n, err := Decode(source, body, DefaultMaxAlerts)
			require.NoError(t, err)
			firing := 0
			for _, g := range Split(n, e.c.cfg.NamespaceLabels) {
				if g.Status == StatusFiring {
					firing++
				}
			}

			code, resp := e.post(source, body)
			require.Equal(t, http.StatusAccepted, code, resp)
			require.Equal(t, firing, recorded(t, resp).Deliveries)
			e.deliver()
			calls := e.slack.Calls()
			require.Len(t, calls, firing)
			for _, c := range calls {
				require.Equal(t, "chat.postMessage", c.Method)
				require.Equal(t, e2eChannel, c.Channel)
				require.Equal(t, "ok", c.Answer)
				require.NotEmpty(t, c.Blocks)
			}

			code, resp = e.post(source, body)
			require.Equal(t, http.StatusAccepted, code, resp)
			require.Equal(t, 0, recorded(t, resp).Deliveries)
			e.deliver()
			require.Len(t, e.slack.Calls(), firing, "the same payload again posts nothing")
			require.Equal(t, float64(2*len(n.Alerts)), testutil.ToFloat64(e.c.m.received.WithLabelValues(source)))
		})
	}
}

func TestE2EDelivery(t *testing.T) {
	statetest.Each(t, func(t *testing.T, st *state.Store, _ state.Configuration, _ string) {
		e := newE2E(t, st)
		ctx := context.Background()

		// Two namespaces: two messages.
		code, resp := e.alertmanager(amPayload(StatusFiring, "HighErrorRate", "payments", "checkout"), e2eBearer)
		require.Equal(t, http.StatusAccepted, code, resp)
		require.Equal(t, 2, recorded(t, resp).Deliveries)
		e.deliver()
		calls := e.slack.Calls()
		require.Len(t, calls, 2)
		posted := map[string]string{} // namespace → ts
		for _, c := range calls {
			require.Equal(t, "chat.postMessage", c.Method)
			for _, ns := range []string{"payments", "checkout"} {
				if strings.Contains(c.Text, ns) {
					posted[ns] = c.Posted
				}
			}
		}
		require.Len(t, posted, 2, "one message per namespace")

		// The same again: nothing.
		code, resp = e.alertmanager(amPayload(StatusFiring, "HighErrorRate", "payments", "checkout"), e2eBearer)
		require.Equal(t, http.StatusAccepted, code, resp)
		require.Equal(t, 0, recorded(t, resp).Deliveries)
		e.deliver()
		require.Len(t, e.slack.Calls(), 2)

		// No or wrong credentials: 401, nothing stored; malformed: 400
		// with the reason, nothing stored.
		before, err := e.c.Outbox().Counts(ctx)
		require.NoError(t, err)
		code, _ = e.alertmanager(amPayload(StatusFiring, "Other", "payments"), "")
		require.Equal(t, http.StatusUnauthorized, code)
		code, _ = e.alertmanager(amPayload(StatusFiring, "Other", "payments"), "wrong")
		require.Equal(t, http.StatusUnauthorized, code)
		code, resp = e.alertmanager([]byte(`{"alerts":[{"labels":{"code":500}}]}`), e2eBearer)
		require.Equal(t, http.StatusBadRequest, code)
		require.Contains(t, resp, `labels: \"code\": want a string`)
		after, err := e.c.Outbox().Counts(ctx)
		require.NoError(t, err)
		require.Equal(t, before, after)
		require.Equal(t, 2.0, testutil.ToFloat64(e.c.m.rejected.WithLabelValues(SourceAlertmanager, "unauthorized")))
		require.Equal(t, 1.0, testutil.ToFloat64(e.c.m.rejected.WithLabelValues(SourceAlertmanager, "malformed")))

		// A resolve updates the same message and replies in its thread.
		code, resp = e.alertmanager(amPayload(StatusResolved, "HighErrorRate", "payments"), e2eBearer)
		require.Equal(t, http.StatusAccepted, code, resp)
		e.deliver()
		calls = e.callsSince(2)
		require.Len(t, calls, 2)
		require.Equal(t, "chat.update", calls[0].Method)
		require.Equal(t, posted["payments"], calls[0].TS)
		require.Equal(t, e.slack.ChannelID(e2eChannel), calls[0].Channel)
		require.Contains(t, calls[0].Text, "RESOLVED")
		require.Equal(t, "chat.postMessage", calls[1].Method)
		require.Equal(t, posted["payments"], calls[1].ThreadTS)
		require.Contains(t, calls[1].Text, "Resolved")

		// 429: retried after Retry-After (3 s), not before.
		e.slack.RateLimit(1, 3)
		code, _ = e.alertmanager(amPayload(StatusFiring, "HighErrorRate", "search"), e2eBearer)
		require.Equal(t, http.StatusAccepted, code)
		e.deliver()
		calls = e.callsSince(4)
		require.Len(t, calls, 1)
		require.Equal(t, "429", calls[0].Answer)
		e.advance(2 * time.Second)
		e.deliver()
		require.Len(t, e.callsSince(4), 1, "not retried before Retry-After")
		e.advance(time.Second)
		e.deliver()
		calls = e.callsSince(4)
		require.Len(t, calls, 2)
		require.Equal(t, "ok", calls[1].Answer)
		require.Equal(t, 1.0, testutil.ToFloat64(e.c.m.retried.WithLabelValues(KindPost)))

		// channel_not_found: failed, never retried, counted.
		e.slack.FailNext("channel_not_found")
		code, _ = e.alertmanager(amPayload(StatusFiring, "HighErrorRate", "billing"), e2eBearer)
		require.Equal(t, http.StatusAccepted, code)
		e.deliver()
		e.advance(10 * time.Minute)
		e.deliver()
		calls = e.callsSince(6)
		require.Len(t, calls, 1)
		require.Equal(t, "channel_not_found", calls[0].Answer)
		counts, err := e.c.Outbox().Counts(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, counts[DeliveryFailed])
		require.Equal(t, 0, counts[DeliveryPending])
		require.Equal(t, 1.0, testutil.ToFloat64(e.c.m.failed.WithLabelValues(KindPost, "channel_not_found")))

		// An unsigned snooze click: 401, nothing changes.
		checkout := GroupKey(SourceAlertmanager, "furrow", "checkout", "HighErrorRate")
		click := clickBody(t, "snooze_1h", checkout, "U0JDOE")
		req := httptest.NewRequest(http.MethodPost, "/api/v1/slack/interactions", bytes.NewReader(click))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		code, _ = e.do(req)
		require.Equal(t, http.StatusUnauthorized, code)
		gs, err := e.c.Outbox().Group(ctx, checkout)
		require.NoError(t, err)
		require.True(t, gs.SnoozedUntil.IsZero())
		// Signed with the wrong secret: 401 too.
		stamp := strconv.FormatInt(time.Now().Unix(), 10)
		req = httptest.NewRequest(http.MethodPost, "/api/v1/slack/interactions", bytes.NewReader(click))
		req.Header.Set("X-Slack-Request-Timestamp", stamp)
		req.Header.Set("X-Slack-Signature", sign("not-the-secret", stamp, click))
		code, _ = e.do(req)
		require.Equal(t, http.StatusUnauthorized, code)

		// A signed click snoozes: the next firing is recorded, not sent.
		req = httptest.NewRequest(http.MethodPost, "/api/v1/slack/interactions", bytes.NewReader(click))
		req.Header.Set("X-Slack-Request-Timestamp", stamp)
		req.Header.Set("X-Slack-Signature", sign(testSigningSecret, stamp, click))
		code, resp = e.do(req)
		require.Equal(t, http.StatusOK, code, resp)
		gs, err = e.c.Outbox().Group(ctx, checkout)
		require.NoError(t, err)
		require.Equal(t, "U0JDOE", gs.SnoozedBy)
		require.WithinDuration(t, e.clock().Add(time.Hour), gs.SnoozedUntil, time.Second)

		n := len(e.slack.Calls())
		two := amPayload(StatusFiring, "HighErrorRate", "checkout")
		two = bytes.Replace(two, []byte(`"severity":"critical"`), []byte(`"severity":"critical","pod":"web-2"`), 1)
		code, resp = e.alertmanager(two, e2eBearer)
		require.Equal(t, http.StatusAccepted, code, resp)
		require.Equal(t, Recorded{Groups: 1, Snoozed: 1}, recorded(t, resp))
		e.deliver()
		require.Len(t, e.slack.Calls(), n, "snoozed: nothing sent")

		// Failures and refusals were logged, never a secret.
		logs := e.logs.String()
		require.Contains(t, logs, "channel_not_found")
		for _, secret := range []string{e2eToken, e2eBearer, e2eHMAC, testSigningSecret} {
			require.NotContains(t, logs, secret)
		}
	})
}

func TestE2EGrafanaSignature(t *testing.T) {
	path := filepath.Join(filepath.Dir(e2ePayloads(t)[0]), "pytorch-alerting-infra_grafana-firing.json")
	body, err := os.ReadFile(path)
	require.NoError(t, err)
	st, err := state.Open(context.Background(), state.DefaultConfiguration(), t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	e := newE2E(t, st)
	now := strconv.FormatInt(e.clock().Unix(), 10)
	old := strconv.FormatInt(e.clock().Add(-10*time.Minute).Unix(), 10)
	for _, tc := range []struct {
		name, sig, stamp string
		want             int
	}{
		{"unsigned", "", "", http.StatusUnauthorized},
		{"wrong secret", grafanaSign("other", now, body), now, http.StatusUnauthorized},
		{"not hex", "zz", now, http.StatusUnauthorized},
		{"stale timestamp", grafanaSign(e2eHMAC, old, body), old, http.StatusUnauthorized},
		{"timestamp not signed", grafanaSign(e2eHMAC, "", body), now, http.StatusUnauthorized},
		{"body only", grafanaSign(e2eHMAC, "", body), "", http.StatusAccepted},
		{"with timestamp", grafanaSign(e2eHMAC, now, body), now, http.StatusAccepted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, resp := e.grafana(body, tc.sig, tc.stamp)
			require.Equal(t, tc.want, code, resp)
		})
	}
	counts, err := e.c.Outbox().Counts(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, counts[DeliveryPending], "the two accepted calls record one post")
	// A source without credentials of its own is behind the API token.
	code, _ := e.do(httptest.NewRequest(http.MethodPost, "/api/v1/alerts/grafana", bytes.NewReader(body)))
	require.Equal(t, http.StatusUnauthorized, code)
}

// TestE2EWorker runs the real worker loop: Start delivers within its
// interval, Stop waits.
func TestE2EWorker(t *testing.T) {
	st, err := state.Open(context.Background(), state.DefaultConfiguration(), t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	e := newE2E(t, st)
	e.c.cfg.DeliveryInterval = 50 * time.Millisecond
	require.NoError(t, e.c.Start(context.Background()))
	code, resp := e.alertmanager(amPayload(StatusFiring, "HighErrorRate", "payments"), e2eBearer)
	require.Equal(t, http.StatusAccepted, code, resp)
	require.Eventually(t, func() bool { return len(e.slack.Calls()) == 1 }, 5*time.Second, 20*time.Millisecond)
	require.NoError(t, e.c.Stop(context.Background()))
	require.Equal(t, 0.0, testutil.ToFloat64(e.c.m.depth))
}

// TestE2EHistory: with the ClickHouse history wired, every alert accepted
// is an alert_events row and every delivery an alert_deliveries row, once,
// whatever the sender resends.
func TestE2EHistory(t *testing.T) {
	h, s := migratedHistory(t)
	st, err := state.Open(context.Background(), state.DefaultConfiguration(), t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	e := newE2EWith(t, st, h)
	body, err := os.ReadFile(filepath.Join(sharedAlerts, "prometheus-msteams_card-grafana-inspired-payload.json"))
	require.NoError(t, err)
	n, err := Decode(SourceAlertmanager, body, DefaultMaxAlerts)
	require.NoError(t, err)
	for range 2 {
		code, resp := e.alertmanager(body, e2eBearer)
		require.Equal(t, http.StatusAccepted, code, resp)
		e.advance(time.Second)
		e.deliver()
	}
	posts := len(e.slack.Calls())
	require.Positive(t, posts)
	require.Equal(t, strconv.Itoa(len(n.Alerts)), chQuery(t, s, "SELECT count() FROM alert_events"), "the same body twice is stored once")
	require.Equal(t, strconv.Itoa(posts)+"\tok\tpost", chQuery(t, s, "SELECT count(), any(status), any(kind) FROM alert_deliveries"))
	require.Equal(t, "1", chQuery(t, s, "SELECT min(lag_ms) >= 1000 FROM alert_deliveries"), "the delivery ran a second after acceptance")
}

// TestE2EExactlyOnce interrupts deliveries where they cannot know whether
// Slack posted (the call made, no answer: a kill -9, a timeout) and makes
// them again after their lease: each message is in the channel once, and
// the resolve updates and threads under the message the interrupted
// attempt posted.
func TestE2EExactlyOnce(t *testing.T) {
	statetest.Each(t, func(t *testing.T, st *state.Store, _ state.Configuration, _ string) {
		e := newE2E(t, st)
		posts := func() (n int) {
			for _, c := range e.slack.Calls() {
				if c.Method == "chat.postMessage" && c.Answer == "ok" {
					n++
				}
			}
			return n
		}

		// Posted, never answered: the worker stops mid-call.
		code, resp := e.alertmanager(amPayload(StatusFiring, "HighErrorRate", "payments"), e2eBearer)
		require.Equal(t, http.StatusAccepted, code, resp)
		e.slack.HoldPosts(1)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); e.c.Deliver(ctx) }()
		held := <-e.slack.Held()
		cancel()
		<-done
		require.Equal(t, 1, posts())
		counts, err := e.c.Outbox().Counts(context.Background())
		require.NoError(t, err)
		require.Equal(t, 1, counts[DeliveryPending], "the interrupted delivery is still pending")

		e.deliver()
		require.Equal(t, 1, posts(), "within its lease, nobody takes it")
		e.advance(DefaultClaimLease + time.Second)
		e.deliver()
		require.Equal(t, 1, posts(), "after its lease, it finds its message instead of posting again")
		require.Equal(t, float64(1), testutil.ToFloat64(e.c.m.recovered.WithLabelValues(KindPost)))
		counts, err = e.c.Outbox().Counts(context.Background())
		require.NoError(t, err)
		require.Equal(t, 0, counts[DeliveryPending])

		// The resolve edits and threads under that message.
		n := len(e.slack.Calls())
		code, resp = e.alertmanager(amPayload(StatusResolved, "HighErrorRate", "payments"), e2eBearer)
		require.Equal(t, http.StatusAccepted, code, resp)
		e.deliver()
		var update, reply bool
		for _, c := range e.callsSince(n) {
			switch {
			case c.Method == "chat.update":
				require.Equal(t, held.Posted, c.TS)
				require.Equal(t, "ok", c.Answer)
				update = true
			case c.Method == "chat.postMessage":
				require.Equal(t, held.Posted, c.ThreadTS)
				reply = true
			}
		}
		require.True(t, update && reply, "update and thread reply: %+v", e.callsSince(n))

		// A failure after which Slack may or may not have posted (its
		// internal_error), when it had not: posted once, on the retry.
		before := posts()
		code, resp = e.alertmanager(amPayload(StatusFiring, "Latency", "checkout"), e2eBearer)
		require.Equal(t, http.StatusAccepted, code, resp)
		e.slack.FailNext("internal_error")
		e.deliver()
		require.Equal(t, before, posts())
		e.advance(time.Minute)
		e.deliver()
		require.Equal(t, before+1, posts())
		require.Equal(t, float64(1), testutil.ToFloat64(e.c.m.recovered.WithLabelValues(KindPost)), "nothing found, nothing recovered")

		// The channel cannot be read (the token lacks the scope): it posts,
		// and counts a delivery it could not check.
		before = posts()
		code, resp = e.alertmanager(amPayload(StatusFiring, "Saturation", "search"), e2eBearer)
		require.Equal(t, http.StatusAccepted, code, resp)
		e.slack.HoldPosts(1)
		ctx, cancel = context.WithCancel(context.Background())
		done = make(chan struct{})
		go func() { defer close(done); e.c.Deliver(ctx) }()
		<-e.slack.Held()
		cancel()
		<-done
		e.advance(DefaultClaimLease + time.Second)
		e.slack.FailNext("missing_scope")
		e.deliver()
		require.Equal(t, before+2, posts(), "posted again, unchecked")
		require.Equal(t, float64(1), testutil.ToFloat64(e.c.m.unchecked.WithLabelValues(KindPost)))
	})
}
