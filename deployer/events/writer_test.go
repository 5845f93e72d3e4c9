package events

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/internal/testenv/chtest"
	"github.com/furrowdev/furrow/migrations"
	"github.com/furrowdev/furrow/store"
)

func migrated(t *testing.T) store.Store {
	t.Helper()
	if testing.Short() {
		t.Skip("opens the embedded engine")
	}
	s := chtest.Store(t)
	_, err := migrations.New(s, migrations.Options{}).Up(context.Background())
	require.NoError(t, err)
	return s
}

func chQuery(t *testing.T, s store.Store, q string) string {
	t.Helper()
	var b strings.Builder
	require.NoError(t, s.Query(context.Background(), &b, q, "TSV"), q)
	return strings.TrimSuffix(b.String(), "\n")
}

func i32(v int32) *int32 { return &v }

// TestWriter: every column lands as given; a retried write, and an
// external event received again at another time, are stored once; an
// invalid event, and a batch holding one, store nothing.
func TestWriter(t *testing.T) {
	s := migrated(t)
	w := NewWriter(s)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	started := Event{DeployID: 42, Source: SourceFurrow, Project: "checkout", Service: "checkout-api", Team: "T-PAY",
		Environment: "production", Region: "ap-northeast-2", Cluster: "prod-apne2-a", Action: ActionDeploy, Result: ResultStarted,
		Revision: "r7", Image: "checkout:1.2", PreviousImage: "checkout:1.1", Actor: "E1001", ActorName: "Jane Doe",
		StartedAt: t0, CommitSHA: "9f1c2b7e4d3a5f6e8b0c1d2e3f4a5b6c7d8e9f01", CommitTime: t0.Add(-time.Hour)}
	failed := started
	failed.Result, failed.FailureCause, failed.Message = ResultFailed, CauseCrashLoopBackOff, "back-off restarting failed container"
	failed.FinishedAt = t0.Add(95*time.Second + 500*time.Millisecond)
	scale := Event{DeployID: 43, Source: SourceFurrow, Project: "checkout", Environment: "production", Action: ActionScale,
		Result: ResultSucceeded, StartedAt: t0.Add(time.Hour), FinishedAt: t0.Add(time.Hour + time.Second), ReplicasFrom: i32(3), ReplicasTo: i32(6)}
	for range 2 { // the second round is a retry: nothing new
		require.NoError(t, w.Write(ctx, started))
		require.NoError(t, w.Write(ctx, failed))
		require.NoError(t, w.Write(ctx, scale))
	}
	require.Equal(t, "3", chQuery(t, s, "SELECT count() FROM deploy_events"))
	require.Equal(t, strings.Join([]string{
		"2026-11-30 10:00:00.000\tstarted\t\t\\N\t0\t2026-11-30 09:00:00.000\t\\N\t\\N",
		"2026-11-30 10:01:35.500\tfailed\tCrashLoopBackOff\t2026-11-30 10:01:35.500\t95500\t2026-11-30 09:00:00.000\t\\N\t\\N",
		"2026-11-30 11:00:01.000\tsucceeded\t\t2026-11-30 11:00:01.000\t1000\t\\N\t3\t6",
	}, "\n"), chQuery(t, s, "SELECT at, result, failure_cause, finished_at, duration_ms, commit_time, replicas_from, replicas_to FROM deploy_events ORDER BY at"))
	require.Equal(t, "42\tfurrow\tcheckout\tcheckout-api\tT-PAY\tproduction\tap-northeast-2\tprod-apne2-a\tdeploy\tr7\tcheckout:1.2\tcheckout:1.1\tE1001\tJane Doe\t2026-11-30 10:00:00.000\t9f1c2b7e4d3a5f6e8b0c1d2e3f4a5b6c7d8e9f01\t",
		chQuery(t, s, "SELECT deploy_id, source, project, service, team, environment, region, cluster, action, revision, image, previous_image, actor, actor_name, started_at, commit_sha, external_id FROM deploy_events WHERE result = 'started'"))

	// The view: one action, failed with its cause, 95.5 s.
	require.Equal(t, "42\tdeploy\tfailed\tCrashLoopBackOff\t95500\t['prod-apne2-a']",
		chQuery(t, s, "SELECT deploy_id, action, result, failure_cause, duration_ms, clusters FROM deploy_actions WHERE deploy_id = 42"))

	// An external event delivered again later (another receive time).
	ext := Event{Source: SourceGitHub, DeployID: 7, Project: "p", Environment: "e", Action: ActionDeploy, Result: ResultStarted,
		At: t0, ExternalID: "github:deployment_status:1"}
	require.NoError(t, w.Write(ctx, ext))
	ext.At = t0.Add(time.Minute)
	require.NoError(t, w.Write(ctx, ext))
	require.Equal(t, "1", chQuery(t, s, "SELECT count() FROM deploy_events WHERE source = 'github'"))

	// Refusals store nothing.
	bad := started
	bad.Result = "done"
	require.ErrorIs(t, w.Write(ctx, bad), ErrInvalid)
	err := w.WriteBatch(ctx, []Event{scale, {Source: SourceFurrow}})
	require.ErrorIs(t, err, ErrInvalid)
	require.Contains(t, err.Error(), "event 2")
	require.Equal(t, "4", chQuery(t, s, "SELECT count() FROM deploy_events"))
}

// TestValidate: what an event needs.
func TestValidate(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	ok := Event{DeployID: 1, Source: SourceFurrow, Project: "p", Environment: "e", Action: ActionRestart, Result: ResultSucceeded, StartedAt: t0, FinishedAt: t0}
	_, err := ok.Normalize()
	require.NoError(t, err)
	for _, c := range []struct {
		edit func(*Event)
		want string
	}{
		{func(e *Event) { e.Source = "jenkins" }, `source "jenkins"`},
		{func(e *Event) { e.Action = "delete" }, `action "delete"`},
		{func(e *Event) { e.Result = "ok" }, `result "ok"`},
		{func(e *Event) { e.FinishedAt = time.Time{} }, "needs finished_at"},
		{func(e *Event) { e.Result = ResultStarted }, "started step has no finished_at"},
		{func(e *Event) { e.FailureCause = CauseQuota }, "only for a failed step"},
		{func(e *Event) { e.Project = " " }, "no project"},
		{func(e *Event) { e.Environment = "" }, "no environment"},
		{func(e *Event) { e.DeployID = 0 }, "deploy id"},
		{func(e *Event) { e.Source = SourceArgoCD }, "external_id"},
		{func(e *Event) { e.FinishedAt = t0.Add(-time.Second) }, "before started_at"},
		{func(e *Event) { e.ReplicasTo = i32(-1) }, "negative replicas"},
		{func(e *Event) { e.StartedAt, e.FinishedAt = time.Time{}, time.Time{}; e.Result = ResultStarted }, "no time"},
		{func(e *Event) { e.CommitTime = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC) }, "commit_time"},
	} {
		e := ok
		c.edit(&e)
		_, err := e.Normalize()
		require.ErrorIs(t, err, ErrInvalid, c.want)
		require.Contains(t, err.Error(), c.want)
	}
	long := ok
	long.Message = strings.Repeat("é", maxMessageBytes)
	n, err := long.Normalize()
	require.NoError(t, err)
	require.LessOrEqual(t, len(n.Message), maxMessageBytes)
	require.True(t, strings.HasSuffix(n.Message, "…"))
}

type directory struct{}

func (directory) ProjectOf(_ context.Context, key string) (string, string, bool) {
	if key == "acme/checkout-api" || key == "checkout-api-prod-apne2" {
		return "checkout", "T-PAY", true
	}
	return "", "", false
}

func (directory) PersonOf(_ context.Context, login string) (string, string, bool) {
	if strings.Contains(login, "jane.doe@acme.example") {
		return "E1001", "Jane Doe", true
	}
	return "", "", false
}

func sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// TestReceiver: the two webhooks through HTTP into the real table. GitHub
// without a signature, or with a wrong one, gets 401 and stores nothing;
// other GitHub events get 202 and a note; a redelivery stores nothing new;
// Argo CD's body is stored with the catalog's project and employee.
func TestReceiver(t *testing.T) {
	s := migrated(t)
	gin.SetMode(gin.TestMode)
	reg := prometheus.NewRegistry()
	cfg := DefaultConfiguration()
	cfg.GitHubSecret = "s3cret"
	r, err := New(cfg, Dependencies{Sink: NewWriter(s), Directory: directory{}, Registry: reg,
		Now: func() time.Time { return time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC) }})
	require.NoError(t, err)
	e := gin.New()
	r.Routes(e.Group("/api/v1"), e.Group("/api/v1"))
	post := func(path string, body []byte, h map[string]string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		for k, v := range h {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}
	gh, err := os.ReadFile("testdata/github/success.json")
	require.NoError(t, err)
	const path = "/api/v1/deploys/events/github"
	require.Equal(t, 401, post(path, gh, map[string]string{GitHubEventHeader: "deployment_status"}).Code)
	require.Equal(t, 401, post(path, gh, map[string]string{GitHubEventHeader: "deployment_status", GitHubSignatureHeader: sign("wrong", gh)}).Code)
	rec := post(path, []byte(`{"zen":"Keep it logically awesome."}`), map[string]string{GitHubEventHeader: "ping", GitHubSignatureHeader: sign("s3cret", []byte(`{"zen":"Keep it logically awesome."}`))})
	require.Equal(t, 202, rec.Code)
	require.Contains(t, rec.Body.String(), "not deploy events")
	require.Equal(t, "0", chQuery(t, s, "SELECT count() FROM deploy_events"))
	for range 2 {
		rec = post(path, gh, map[string]string{GitHubEventHeader: "deployment_status", GitHubSignatureHeader: sign("s3cret", gh)})
		require.Equal(t, 202, rec.Code, rec.Body.String())
	}
	require.JSONEq(t, `{"recorded":1,"deploy_id":1938475562,"result":"succeeded"}`, rec.Body.String())
	require.Equal(t, "checkout\tT-PAY\tgithub:jdoe-acme\tproduction\tap-northeast-2\tprod-apne2-a\t225000",
		chQuery(t, s, "SELECT project, team, actor, environment, region, cluster, duration_ms FROM deploy_events"))

	argo, err := os.ReadFile("testdata/argocd/succeeded.json")
	require.NoError(t, err)
	rec = post("/api/v1/deploys/events/argocd", argo, nil)
	require.Equal(t, 202, rec.Code, rec.Body.String())
	require.Equal(t, "checkout\tE1001\tJane Doe\t2026-11-30 09:58:12.000\t123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/checkout-api:9f1c2b7",
		chQuery(t, s, "SELECT project, actor, actor_name, commit_time, image FROM deploy_events WHERE source = 'argocd'"))
	rec = post("/api/v1/deploys/events/argocd", []byte(`{"app":"x"}`), nil)
	require.Equal(t, 400, rec.Code)
	require.Contains(t, rec.Body.String(), "cannot tell the result")

	// Both deliveries were accepted; the table kept one.
	require.Equal(t, 2.0, testutil.ToFloat64(r.received.WithLabelValues("github", "succeeded")))
	require.Equal(t, 2.0, testutil.ToFloat64(r.rejected.WithLabelValues("github", "unauthorized")))
	require.Equal(t, 1.0, testutil.ToFloat64(r.rejected.WithLabelValues("github", "ignored")))
	require.Equal(t, 1.0, testutil.ToFloat64(r.rejected.WithLabelValues("argocd", "malformed")))
}

// TestReceiverRoutes: the GitHub route exists only with a secret; the
// Argo CD one can be turned off.
func TestReceiverRoutes(t *testing.T) {
	gin.SetMode(gin.TestMode)
	cfg := DefaultConfiguration()
	cfg.ArgoCD = false
	r, err := New(cfg, Dependencies{Sink: NewWriter(nil)})
	require.NoError(t, err)
	e := gin.New()
	r.Routes(e.Group("/api/v1"), e.Group("/api/v1"))
	require.Empty(t, e.Routes())
	_, err = New(Configuration{}, Dependencies{Sink: NewWriter(nil)})
	require.Error(t, err)
}

// TestLoad: bad lines are named with their line and skipped, their
// neighbours stored; loading again (with the bad line fixed) stores
// nothing twice.
func TestLoad(t *testing.T) {
	s := migrated(t)
	w := NewWriter(s)
	ctx := context.Background()
	good1 := `{"deploy_id":1,"source":"furrow","project":"p","environment":"e","action":"deploy","result":"started","started_at":"2026-11-01T00:00:00Z"}`
	good2 := `{"deploy_id":1,"source":"furrow","project":"p","environment":"e","action":"deploy","result":"succeeded","started_at":"2026-11-01T00:00:00Z","finished_at":"2026-11-01T00:02:00Z"}`
	bad := `{"deploy_id":2,"source":"furrow","project":"p","environment":"e","action":"deploy","result":"succeeded","started_at":"2026-11-01T01:00:00Z"}`
	fixed := `{"deploy_id":2,"source":"furrow","project":"p","environment":"e","action":"deploy","result":"succeeded","started_at":"2026-11-01T01:00:00Z","finished_at":"2026-11-01T01:01:00Z"}`
	rep, err := w.Load(ctx, "events.jsonl", strings.NewReader(good1+"\n\n"+`{"projet":"p"}`+"\n"+bad+"\n"+good2+"\n"))
	require.NoError(t, err)
	require.Equal(t, 4, rep.Lines)
	require.Equal(t, 2, rep.Written)
	require.Len(t, rep.Bad, 2)
	require.Contains(t, rep.Bad[0], "events.jsonl:3: not a deploy event: json: unknown field \"projet\"")
	require.Contains(t, rep.Bad[1], "events.jsonl:4: invalid deploy event: result succeeded needs finished_at")
	rep, err = w.Load(ctx, "events.jsonl", strings.NewReader(good1+"\n"+fixed+"\n"+good2+"\n"))
	require.NoError(t, err)
	require.Empty(t, rep.Bad)
	require.Equal(t, "3", chQuery(t, s, "SELECT count() FROM deploy_events"))
}
