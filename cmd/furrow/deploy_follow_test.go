package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/deployer"
	"github.com/furrowdev/furrow/state"
)

// cutWriter passes a response through until budget bytes, then drops the
// connection mid-write (as a proxy or a network cut does).
type cutWriter struct {
	http.ResponseWriter
	budget int
}

func (w *cutWriter) Write(b []byte) (int, error) {
	if w.budget >= 0 && len(b) > w.budget {
		_, _ = w.ResponseWriter.Write(b[:w.budget])
		w.ResponseWriter.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}
	if w.budget >= 0 {
		w.budget -= len(b)
	}
	return w.ResponseWriter.Write(b)
}

func (w *cutWriter) Flush() { w.ResponseWriter.(http.Flusher).Flush() }

// TestFollowDeployReconnects follows a deploy's stream served by the
// deployer's own routes over real connections that are cut in the middle
// of events: the follower reconnects with Last-Event-ID and prints every
// line exactly once, in order, then the outcome.
func TestFollowDeployReconnects(t *testing.T) {
	ctx := context.Background()
	st, err := state.Open(ctx, state.DefaultConfiguration(), t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	cfg := deployer.DefaultConfiguration()
	cfg.Enabled = true
	c, err := deployer.New(cfg, deployer.Dependencies{State: st, Registry: prometheus.NewRegistry()})
	require.NoError(t, err)

	// A finished deploy with its stream.
	at := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	rec, err := c.Store().Begin(ctx, deployer.Record{Project: "shop", Environment: "prod", Action: deployer.ActionDeploy, Actor: "alice@example.com"}, at, time.Minute)
	require.NoError(t, err)
	var want []string
	for i := 1; i <= 6; i++ {
		l := deployer.LogLine{At: at.Add(time.Duration(i) * time.Second), Cluster: "eu-1", Stage: "rollout", Message: fmt.Sprintf("Deployment shop-prod/shop-web: %d/6 ready", i)}
		if i == 1 {
			l.Cluster, l.Stage, l.Message = "", "start", "deploy of shop to prod by alice@example.com"
		}
		_, err := c.Store().AppendLog(ctx, rec.ID, l)
		require.NoError(t, err)
		want = append(want, formatLogLine(l))
	}
	rec.State = deployer.StateSucceeded
	require.NoError(t, c.Store().Finish(ctx, rec, at.Add(7*time.Second)))

	gin.SetMode(gin.TestMode)
	engine := gin.New()
	g := engine.Group("/api/v1")
	c.Routes(g, g)
	// Connections 1 and 2 are cut part-way through an event; 3 runs to
	// the end.
	var mu sync.Mutex
	var lastIDs []string
	budgets := []int{250, 300, -1}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n := len(lastIDs)
		lastIDs = append(lastIDs, r.Header.Get("Last-Event-ID"))
		mu.Unlock()
		budget := -1
		if strings.HasSuffix(r.URL.Path, "/stream") && n < len(budgets) {
			budget = budgets[n]
		}
		engine.ServeHTTP(&cutWriter{ResponseWriter: w, budget: budget}, r)
	}))
	t.Cleanup(srv.Close)

	a := &app{}
	client, err := a.newAPIClient(srv.URL, "read")
	require.NoError(t, err)
	var out bytes.Buffer
	got, err := followDeploy(ctx, client, rec.ID, &out)
	require.NoError(t, err)
	require.Equal(t, deployer.StateSucceeded, got.State)
	require.Equal(t, strings.Join(want, "\n")+"\n", out.String(), "every line once, in order")
	require.Len(t, lastIDs, 3, "two cuts, two reconnections")
	require.Equal(t, "", lastIDs[0])
	require.NotEmpty(t, lastIDs[1], "the reconnection resumes after the last whole event")
	require.Greater(t, lastIDs[2], lastIDs[1])

	// The outcome line and exit status.
	var o bytes.Buffer
	require.NoError(t, outcome(got, &o))
	require.Equal(t, fmt.Sprintf("deploy %d succeeded in 7s\n", rec.ID), o.String())
	failed := got
	failed.State, failed.Cause, failed.Message = deployer.StateFailed, "ImagePullBackOff", "eu-1: pod shop-web-1: image not found"
	err = outcome(failed, &o)
	require.EqualError(t, err, fmt.Sprintf("deploy %d failed: ImagePullBackOff: eu-1: pod shop-web-1: image not found", rec.ID))

	// An unknown deploy: an error at once, no retries.
	start := time.Now()
	_, err = followDeploy(ctx, client, 999, &out)
	require.ErrorContains(t, err, "no such deploy")
	require.Less(t, time.Since(start), streamBackoff, "a 404 is not retried")
}
