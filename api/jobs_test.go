package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

// Tokens of each scope, as a tokens file grants them.
const (
	readToken   = "r3ad-0nly-t0ken-value"
	ingestToken = "1ngest-0nly-t0ken-value"
	otherIngest = "an0ther-1ngest-t0ken-value"
	adminToken  = "adm1n-t0ken-value-xyz"
)

// jobsServer is a test server with the jobs API and a hand-over route,
// POST /api/v1/ingest/test {"sources": […]}, whose jobs run block.
type jobsServer struct {
	*testServer
	jobs *Jobs
	root string
}

// blockingRun is a job that reports one object, tells started, then runs
// until its context is done: an ingest longer than any request.
func blockingRun(started chan<- string) func([]string) RunFunc {
	return func(srcs []string) RunFunc {
		return func(ctx context.Context, p *Progress) (any, error) {
			p.AddObjects(2)
			p.Done(1, 10, 9, 1)
			started <- srcs[0]
			<-ctx.Done()
			return map[string]int{"partial": 1}, ctx.Err()
		}
	}
}

func newJobsServer(t *testing.T, hc HandOverConfiguration, run func([]string) RunFunc) *jobsServer {
	t.Helper()
	root := t.TempDir()
	hc.Roots = []string{root}
	tokens := filepath.Join(t.TempDir(), "tokens")
	require.NoError(t, os.WriteFile(tokens, []byte(strings.Join([]string{
		"analyst read " + readToken,
		"ci-loader ingest " + ingestToken,
		"other-loader ingest " + otherIngest,
		"ops admin " + adminToken,
	}, "\n")), 0o600))
	s := newTestServer(t, func(c *Configuration, _ *Dependencies) { c.Tokens = nil; c.TokensFile = tokens })
	jobs, err := NewJobs(hc, s.registry, s.logger)
	require.NoError(t, err)
	t.Cleanup(func() { _ = jobs.Stop(context.Background()) })
	jobs.Routes(s.Group(ScopeRead, ScopeIngest), s.Group(ScopeIngest))
	s.Group(ScopeIngest).POST("/ingest/test", func(c *gin.Context) {
		var req struct{ Sources []string }
		if err := c.ShouldBindJSON(&req); err != nil {
			c.JSON(http.StatusBadRequest, gin.H{"error": err.Error()})
			return
		}
		jobs.HandOver(c, "test", req.Sources, run)
	})
	return &jobsServer{testServer: s, jobs: jobs, root: root}
}

func TestScopes(t *testing.T) {
	started := make(chan string, 10)
	s := newJobsServer(t, DefaultHandOverConfiguration(), blockingRun(started))
	handOver := `{"sources":["` + s.root + `"]}`
	routes := []struct {
		name string
		r    request
	}{
		{"sql", request{method: http.MethodPost, target: "/api/v1/sql", body: "SELECT 1"}},
		{"metrics", request{target: "/metrics"}},
		{"hand-over", request{method: http.MethodPost, target: "/api/v1/ingest/test", body: handOver}},
		{"jobs", request{target: "/api/v1/ingest/jobs"}},
		{"cancel", request{method: http.MethodDelete, target: "/api/v1/ingest/jobs/absent"}},
	}
	cases := []struct {
		where, token string
		want         map[string]int
	}{
		{here(), readToken, map[string]int{"sql": 200, "metrics": 200, "hand-over": 403, "jobs": 200, "cancel": 403}},
		{here(), ingestToken, map[string]int{"sql": 403, "metrics": 403, "hand-over": 202, "jobs": 200, "cancel": 404}},
		{here(), adminToken, map[string]int{"sql": 200, "metrics": 200, "hand-over": 202, "jobs": 200, "cancel": 404}},
		{here(), "not-a-token", map[string]int{"sql": 401, "metrics": 401, "hand-over": 401, "jobs": 401, "cancel": 401}},
	}
	for _, c := range cases {
		for _, rt := range routes {
			r := rt.r
			r.token = c.token
			rec := s.do(t, r)
			require.Equal(t, c.want[rt.name], rec.Code, "%s: %s: %s", c.where, rt.name, rec.Body.String())
			if rec.Code == http.StatusForbidden {
				require.Contains(t, rec.Body.String(), "scope", c.where)
			}
		}
	}
	// The read token's refusal started nothing; the two accepted ones did.
	require.Len(t, s.jobs.List(), 2)
	// Logs name the subjects, never the tokens.
	logs := s.logs.String()
	require.Contains(t, logs, "subject=analyst")
	require.Contains(t, logs, "subject=ci-loader")
	for _, tok := range []string{readToken, ingestToken, adminToken} {
		require.NotContains(t, logs, tok[:8])
	}
}

func TestHandOverOutsideRoots(t *testing.T) {
	ran := make(chan string, 1)
	s := newJobsServer(t, DefaultHandOverConfiguration(), blockingRun(ran))
	outside := t.TempDir()
	require.NoError(t, os.Symlink(outside, filepath.Join(s.root, "escape")))
	for _, c := range []struct {
		where, src string
		code       int
	}{
		{here(), outside, http.StatusForbidden},
		{here(), s.root + "/../" + filepath.Base(outside), http.StatusForbidden},
		{here(), filepath.Join(s.root, "escape"), http.StatusForbidden},
		{here(), "relative/dir", http.StatusForbidden},
		{here(), "s3://bucket/AWSLogs/", http.StatusForbidden},
		{here(), filepath.Join(s.root, "absent"), http.StatusBadRequest},
	} {
		b, _ := json.Marshal(map[string][]string{"sources": {s.root, c.src}}) // one bad source refuses the request
		rec := s.do(t, request{method: http.MethodPost, target: "/api/v1/ingest/test", body: string(b), token: ingestToken})
		require.Equal(t, c.code, rec.Code, "%s: %s", c.where, rec.Body.String())
	}
	require.Empty(t, s.jobs.List(), "a refused hand-over starts no job")
	require.Empty(t, ran)
}

// TestJobOutlivesRequest starts a job over a real connection: the 202
// comes back while the job runs, the job is listed with its owner and
// progress, only its owner (or an admin) cancels it, and it ends as
// cancelled.
func TestJobOutlivesRequest(t *testing.T) {
	started := make(chan string, 1)
	s := newJobsServer(t, DefaultHandOverConfiguration(), blockingRun(started))
	require.NoError(t, s.Start(context.Background()))
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	base := "http://" + s.Addr()

	call := func(method, path, token, body string, out any) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		if out != nil {
			require.NoError(t, json.NewDecoder(resp.Body).Decode(out))
		}
		return resp
	}
	var jb Job
	resp := call(http.MethodPost, "/api/v1/ingest/test", ingestToken, `{"sources":["`+s.root+`"]}`, &jb)
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	require.Equal(t, JobsPath+"/"+jb.ID, resp.Header.Get("Location"))
	require.Equal(t, "ci-loader", jb.Subject)
	require.Equal(t, <-started, s.root, "the job got the checked source")

	// The request is over; the job still runs.
	var got Job
	call(http.MethodGet, JobsPath+"/"+jb.ID, ingestToken, "", &got)
	require.Equal(t, JobRunning, got.State)
	var list struct{ Jobs []Job }
	call(http.MethodGet, JobsPath, readToken, "", &list)
	require.Len(t, list.Jobs, 1)
	require.Equal(t, "ci-loader", list.Jobs[0].Subject)
	require.Equal(t, ProgressSnapshot{ObjectsTotal: 2, ObjectsDone: 1, RecordsRead: 10, RecordsStored: 9, RecordsRejected: 1}, list.Jobs[0].Progress)

	require.Equal(t, http.StatusForbidden, call(http.MethodDelete, JobsPath+"/"+jb.ID, otherIngest, "", nil).StatusCode, "another subject's job")
	require.Equal(t, http.StatusAccepted, call(http.MethodDelete, JobsPath+"/"+jb.ID, ingestToken, "", nil).StatusCode)
	got = waitFinal(t, s.jobs, jb.ID)
	require.Equal(t, JobCancelled, got.State)
	require.JSONEq(t, `{"partial":1}`, string(got.Result), "what the run reported is kept")
	require.NotNil(t, got.Ended)
	require.Equal(t, 1.0, testutil.ToFloat64(s.jobs.m.finished.WithLabelValues("test", "cancelled")))
	require.Equal(t, 1.0, testutil.ToFloat64(s.jobs.m.started.WithLabelValues("test")))
}

// waitFinal polls a job until it ends. The deadline only stops a hung
// test; nothing is asserted about how long it took.
func waitFinal(t *testing.T, jobs *Jobs, id string) Job {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		jb, err := jobs.Get(id)
		require.NoError(t, err)
		if jb.State.Final() {
			return jb
		}
		require.True(t, time.Now().Before(deadline), "job %s still %s", id, jb.State)
		time.Sleep(10 * time.Millisecond)
	}
}

func TestJobsQueueAndStop(t *testing.T) {
	jobs, err := NewJobs(HandOverConfiguration{MaxRunningJobs: 1, KeepJobs: 2}, nil, nil)
	require.NoError(t, err)
	started := make(chan string, 10)
	block := blockingRun(started)
	quick := func(context.Context, *Progress) (any, error) { return "ok", nil }
	failing := func(context.Context, *Progress) (any, error) { return nil, errors.New("boom") }

	a, err := jobs.Submit("test", "s", []string{"a"}, block([]string{"a"}))
	require.NoError(t, err)
	require.Equal(t, "a", <-started)
	b, err := jobs.Submit("test", "s", []string{"b"}, block([]string{"b"}))
	require.NoError(t, err)
	require.Equal(t, JobQueued, b.State, "one job at a time")
	b, err = jobs.Cancel(b.ID)
	require.NoError(t, err)
	require.Equal(t, JobCancelled, b.State, "a queued job is cancelled at once")

	c, err := jobs.Submit("test", "s", []string{"c"}, quick)
	require.NoError(t, err)
	d, err := jobs.Submit("test", "s", []string{"d"}, failing)
	require.NoError(t, err)
	_, err = jobs.Cancel(a.ID)
	require.NoError(t, err)
	// Queued jobs run in order, so d ends last.
	dj := waitFinal(t, jobs, d.ID)
	require.Equal(t, JobFailed, dj.State)
	require.Equal(t, "boom", dj.Error)
	require.Empty(t, started, "the cancelled queued job never ran")
	for state, n := range map[JobState]float64{JobCancelled: 2, JobDone: 1, JobFailed: 1} {
		require.Equal(t, n, testutil.ToFloat64(jobs.m.finished.WithLabelValues("test", string(state))), state)
	}

	// KeepJobs bounds the finished jobs kept: the first created went first.
	list := jobs.List()
	require.Len(t, list, 2)
	require.Equal(t, []string{d.ID, c.ID}, []string{list[0].ID, list[1].ID})
	require.Equal(t, JobDone, list[1].State)
	for _, gone := range []string{a.ID, b.ID} {
		_, err = jobs.Get(gone)
		require.ErrorIs(t, err, ErrNoJob)
	}

	// Stop cancels what runs and refuses what comes.
	e, err := jobs.Submit("test", "s", []string{"e"}, block([]string{"e"}))
	require.NoError(t, err)
	<-started
	require.NoError(t, jobs.Stop(context.Background()))
	ej, err := jobs.Get(e.ID)
	require.NoError(t, err)
	require.Equal(t, JobCancelled, ej.State)
	_, err = jobs.Submit("test", "s", nil, quick)
	require.ErrorIs(t, err, ErrStopping)
}
