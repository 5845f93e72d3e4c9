package catalog_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/api"
	"github.com/furrowdev/furrow/catalog"
	"github.com/furrowdev/furrow/internal/testenv/chtest"
	"github.com/furrowdev/furrow/state"
)

// hrExport writes an HR export of people in teams (CSV).
func hrExport(people, teams int, rename bool) []byte {
	var b strings.Builder
	b.WriteString("employee_id,name,email,team_code,team_name\n")
	for i := 0; i < people; i++ {
		t := i % teams
		name := fmt.Sprintf("Team %d", t)
		if rename && t == 0 {
			name = "Team zero"
		}
		fmt.Fprintf(&b, "E%06d,Person %d,p%d@example.com,T%04d,%s\n", i, i, i, t, name)
	}
	return []byte(b.String())
}

// BenchmarkHRSync: an HR sync of 20k people in 2k teams into an empty
// catalog (SQLite), then a second sync that changes nothing, then one
// rename. Seconds each.
func BenchmarkHRSync(b *testing.B) {
	ctx := context.Background()
	st, err := state.Open(ctx, state.DefaultConfiguration(), b.TempDir())
	require.NoError(b, err)
	defer st.Close()
	cfg := catalog.DefaultConfiguration()
	cfg.HR.Mapping = catalog.HRMapping{EmployeeID: "employee_id", Name: "name", Email: "email", TeamCode: "team_code", TeamName: "team_name"}
	c, err := catalog.New(cfg, catalog.Dependencies{State: st, Registry: prometheus.NewRegistry()})
	require.NoError(b, err)
	require.NoError(b, c.Start(ctx))
	a := catalog.Actor{Subject: "bench", Source: "hr-sync"}
	for _, step := range []struct {
		name   string
		data   []byte
		change int
	}{{"first", hrExport(20000, 2000, false), 22000}, {"again", hrExport(20000, 2000, false), 0}, {"rename", hrExport(20000, 2000, true), 1}} {
		t0 := time.Now()
		rep, err := c.SyncHRData(ctx, a, false, "csv", step.data)
		require.NoError(b, err)
		require.Len(b, rep.Changes, step.change)
		fmt.Printf("HR sync of 20,000 people in 2,000 teams, %s: %.2f s (%d rows changed)\n", step.name, time.Since(t0).Seconds(), len(rep.Changes))
	}
}

// BenchmarkOwnerLookup: the owner of a namespace, in process (a map read)
// and through the API (GET /api/v1/catalog/owner), over 5,000 catalogued
// namespaces: lookups per second and p99.
func BenchmarkOwnerLookup(b *testing.B) {
	ctx := context.Background()
	st, err := state.Open(ctx, state.DefaultConfiguration(), b.TempDir())
	require.NoError(b, err)
	defer st.Close()
	c, err := catalog.New(catalog.DefaultConfiguration(), catalog.Dependencies{State: st, Registry: prometheus.NewRegistry()})
	require.NoError(b, err)
	require.NoError(b, c.Start(ctx))
	a := catalog.Actor{Subject: "bench", Source: "api"}
	for t := 0; t < 50; t++ {
		_, err := c.PutTeam(ctx, a, catalog.Team{Code: fmt.Sprintf("T%02d", t), Name: "team"}, 0)
		require.NoError(b, err)
	}
	for p := 0; p < 500; p++ {
		var ns []catalog.Namespace
		for n := 0; n < 10; n++ {
			ns = append(ns, catalog.Namespace{Cluster: fmt.Sprintf("c%d", n%8), Namespace: fmt.Sprintf("ns-%d-%d", p, n)})
		}
		_, err := c.PutProject(ctx, a, catalog.Project{ID: fmt.Sprintf("p%d", p), Name: "p", OwnerTeam: fmt.Sprintf("T%02d", p%50), Namespaces: ns}, 0)
		require.NoError(b, err)
	}
	b.Run("in-process", func(b *testing.B) {
		i := 0
		for b.Loop() {
			p, n := i%500, i%10
			if _, ok := c.OwnerOf(fmt.Sprintf("c%d", n%8), fmt.Sprintf("ns-%d-%d", p, n)); !ok {
				b.Fatal("not found")
			}
			i++
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
	})
	b.Run("api", func(b *testing.B) {
		cfg := api.DefaultConfiguration()
		cfg.Listen = "127.0.0.1:0"
		cfg.DevMode = true
		srv, err := api.New(cfg, api.Dependencies{Store: chtest.Store(b), Registry: prometheus.NewRegistry()})
		require.NoError(b, err)
		c.Routes(srv.Group(api.ScopeRead), srv.Group(api.ScopeWrite))
		h := srv.Router()
		var lat []time.Duration
		i := 0
		for b.Loop() {
			p, n := i%500, i%10
			req := httptest.NewRequest(http.MethodGet, fmt.Sprintf("/api/v1/catalog/owner?cluster=c%d&namespace=ns-%d-%d", n%8, p, n), nil)
			req.RemoteAddr = "127.0.0.1:5000"
			rec := httptest.NewRecorder()
			t0 := time.Now()
			h.ServeHTTP(rec, req)
			lat = append(lat, time.Since(t0))
			if rec.Code != http.StatusOK {
				b.Fatalf("HTTP %d", rec.Code)
			}
			i++
		}
		slices.Sort(lat)
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99_us")
	})
}

// BenchmarkRetag: a transfer of a project with 2,000 resources through the
// re-tag job against the local Tagging API server (RPC v2 CBOR), one call
// in ten throttled: resources re-tagged per second.
func BenchmarkRetag(b *testing.B) {
	ctx := context.Background()
	st, err := state.Open(ctx, state.DefaultConfiguration(), b.TempDir())
	require.NoError(b, err)
	defer st.Close()
	c, err := catalog.New(catalog.DefaultConfiguration(), catalog.Dependencies{State: st, Registry: prometheus.NewRegistry()})
	require.NoError(b, err)
	require.NoError(b, c.Start(ctx))
	a := catalog.Actor{Subject: "bench", Source: "api"}
	for _, t := range []string{"A", "B"} {
		_, err := c.PutTeam(ctx, a, catalog.Team{Code: t, Name: t}, 0)
		require.NoError(b, err)
	}
	_, err = c.PutProject(ctx, a, catalog.Project{ID: "big", Name: "big", OwnerTeam: "A"}, 0)
	require.NoError(b, err)
	fake := &fakeTagging{tags: map[string]map[string]string{}, tagCalls: map[string]int{}, failOnce: map[string]bool{}, pageSize: 100}
	for i := 0; i < 2000; i++ {
		fake.tags[fmt.Sprintf("arn:aws:s3:::big-%04d", i)] = map[string]string{"katalog:project": "big", "katalog:team": "A"}
	}
	srv := httptest.NewServer(&throttleEvery{fake: fake, n: 10})
	defer srv.Close()
	tagger := catalog.NewAWSTaggerFromConfig(aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""), RetryMaxAttempts: 1}, srv.URL)
	_, err = c.ScanTags(ctx, catalog.Actor{Subject: "bench", Source: "tag-scan"}, tagger)
	require.NoError(b, err)
	t0 := time.Now()
	plan, err := c.TransferProject(ctx, a, "big", "B", false)
	require.NoError(b, err)
	throttled := 0
	progress, err := c.RunRetagJobs(ctx, a, tagger, func(context.Context, time.Duration) error { throttled++; return nil })
	require.NoError(b, err)
	require.Equal(b, 2000, progress[0].Done)
	el := time.Since(t0)
	fmt.Printf("re-tag of %d resources (batches of %d, %d throttled calls, backoff not slept): %.2f s, %.0f resources/s\n",
		len(plan.Retag), catalog.MaxTagBatch, throttled, el.Seconds(), float64(len(plan.Retag))/el.Seconds())
}

// throttleEvery throttles one TagResources call in n.
type throttleEvery struct {
	fake *fakeTagging
	n, i int
	mu   sync.Mutex
}

func (t *throttleEvery) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/TagResources") {
		t.mu.Lock()
		t.i++
		if t.i%t.n == 0 {
			t.fake.mu.Lock()
			t.fake.throttle++
			t.fake.mu.Unlock()
		}
		t.mu.Unlock()
	}
	t.fake.ServeHTTP(w, r)
}
