package deploys

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/deployer/events"
	"github.com/furrowdev/furrow/internal/testenv/chtest"
	"github.com/furrowdev/furrow/migrations"
	"github.com/furrowdev/furrow/store"
)

// at is 2026-11-DD HH:MM:SS UTC.
func at(day, h, m, s int) time.Time { return time.Date(2026, 11, day, h, m, s, 0, time.UTC) }

// action is one action of the fixed data set: its clusters' results.
type action struct {
	id           int64
	project, env string
	kind         string
	start        time.Time
	results      map[string]string // cluster → result
	finish       map[string]time.Time
	cause        string
	commit       time.Time
	replicas     [2]int32
}

// fixture is the data set the expected values below are computed from by
// hand (see each case's comment).
var fixture = []action{
	{id: 1, project: "shop", env: "prod", kind: "deploy", start: at(2, 10, 0, 0), results: map[string]string{"a": "succeeded", "b": "succeeded"},
		finish: map[string]time.Time{"a": at(2, 10, 2, 0), "b": at(2, 10, 4, 0)}, commit: at(2, 8, 0, 0)},
	{id: 2, project: "shop", env: "prod", kind: "deploy", start: at(2, 14, 0, 0), results: map[string]string{"a": "failed"},
		finish: map[string]time.Time{"a": at(2, 14, 5, 0)}, cause: "CrashLoopBackOff"},
	{id: 3, project: "shop", env: "prod", kind: "rollback", start: at(2, 14, 10, 0), results: map[string]string{"a": "succeeded"},
		finish: map[string]time.Time{"a": at(2, 14, 11, 0)}},
	{id: 4, project: "shop", env: "prod", kind: "deploy", start: at(3, 9, 0, 0), results: map[string]string{"a": "succeeded"},
		finish: map[string]time.Time{"a": at(3, 9, 2, 0)}, commit: at(3, 7, 0, 0)},
	{id: 5, project: "shop", env: "prod", kind: "restart", start: at(3, 12, 0, 0), results: map[string]string{"a": "succeeded"},
		finish: map[string]time.Time{"a": at(3, 12, 0, 30)}},
	{id: 6, project: "shop", env: "prod", kind: "deploy", start: at(4, 10, 0, 0), results: map[string]string{"a": "succeeded"},
		finish: map[string]time.Time{"a": at(4, 10, 3, 0)}},
	{id: 7, project: "shop", env: "prod", kind: "rollback", start: at(5, 11, 0, 0), results: map[string]string{"a": "succeeded"},
		finish: map[string]time.Time{"a": at(5, 11, 1, 0)}},
	{id: 8, project: "api", env: "staging", kind: "deploy", start: at(3, 10, 0, 0), results: map[string]string{"c": "failed"},
		finish: map[string]time.Time{"c": at(3, 10, 1, 0)}, cause: "ImagePullBackOff"},
	{id: 9, project: "api", env: "staging", kind: "deploy", start: at(3, 10, 30, 0), results: map[string]string{"c": "failed"},
		finish: map[string]time.Time{"c": at(3, 10, 31, 0)}, cause: "ImagePullBackOff"},
	{id: 10, project: "api", env: "staging", kind: "deploy", start: at(3, 11, 0, 0), results: map[string]string{"c": "succeeded"},
		finish: map[string]time.Time{"c": at(3, 11, 5, 0)}},
	{id: 11, project: "api", env: "staging", kind: "scale", start: at(4, 8, 0, 0), results: map[string]string{"c": "succeeded"},
		finish: map[string]time.Time{"c": at(4, 8, 0, 10)}, replicas: [2]int32{2, 4}},
	{id: 12, project: "api", env: "staging", kind: "cronjob_trigger", start: at(4, 9, 0, 0), results: map[string]string{"c": "failed"},
		finish: map[string]time.Time{"c": at(4, 9, 10, 0)}, cause: "Timeout"},
	{id: 13, project: "api", env: "staging", kind: "deploy", start: at(10, 10, 0, 0), results: map[string]string{"c": "started"}},
}

// load writes the fixture through the deployer's writer: a started row
// per cluster, then its result.
func load(t *testing.T, s store.Store) {
	w := events.NewWriter(s)
	ctx := context.Background()
	for _, a := range fixture {
		team := map[string]string{"shop": "T-SHOP", "api": "T-API"}[a.project]
		for cluster, res := range a.results {
			e := events.Event{DeployID: a.id, Source: events.SourceFurrow, Project: a.project, Service: a.project, Team: team,
				Environment: a.env, Cluster: cluster, Action: a.kind, Result: events.ResultStarted, StartedAt: a.start,
				CommitTime: a.commit, Actor: "E100", ActorName: "Jane Doe", Image: a.project + ":v" + fmt.Sprint(a.id)}
			if a.replicas[1] != 0 {
				e.ReplicasFrom, e.ReplicasTo = &a.replicas[0], &a.replicas[1]
			}
			require.NoError(t, w.Write(ctx, e))
			if res == events.ResultStarted {
				continue
			}
			e.Result, e.FinishedAt, e.At = res, a.finish[cluster], time.Time{}
			if res == events.ResultFailed {
				e.FailureCause = a.cause
			}
			require.NoError(t, w.Write(ctx, e))
		}
	}
}

func rows(r Result) string {
	var lines []string
	for _, row := range r.Rows {
		cells := make([]string, len(row))
		for i, v := range row {
			if v == nil {
				cells[i] = "NULL"
			} else {
				cells[i] = fmt.Sprint(v)
			}
		}
		lines = append(lines, strings.Join(cells, " "))
	}
	return strings.Join(lines, "\n")
}

func TestMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("opens the embedded engine")
	}
	s := chtest.Store(t)
	_, err := migrations.New(s, migrations.Options{}).Up(context.Background())
	require.NoError(t, err)
	load(t, s)
	r := New(s)
	from, to := at(1, 0, 0, 0), at(15, 0, 0, 0)
	for _, c := range []struct {
		name string
		p    Params
		cols string
		want string
	}{
		// Failed actions: D2 CrashLoopBackOff, D8 and D9 ImagePullBackOff,
		// D12 (a CronJob trigger) Timeout.
		{"causes", Params{Metric: FailureCauses}, "cause failures",
			"ImagePullBackOff 2\nCrashLoopBackOff 1\nTimeout 1"},
		{"causes by project", Params{Metric: FailureCauses, By: []string{"project"}}, "project cause failures",
			"api ImagePullBackOff 2\napi Timeout 1\nshop CrashLoopBackOff 1"},
		// 13 actions: 8 deploys, 2 rollbacks, 1 each of the others.
		{"action ratio", Params{Metric: ActionRatio}, "action actions share",
			"deploy 8 0.6154\nrollback 2 0.1538\ncronjob_trigger 1 0.0769\nrestart 1 0.0769\nscale 1 0.0769"},
		// api: 5 deploys, 1 scale, 1 trigger of 7; shop: 4 deploys, 2
		// rollbacks, 1 restart of 6 (api's D13 runs still: it counts).
		{"action ratio by project", Params{Metric: ActionRatio, By: []string{"project"}}, "project action actions share",
			"api deploy 4 0.6667\napi cronjob_trigger 1 0.1667\napi scale 1 0.1667\nshop deploy 4 0.5714\nshop rollback 2 0.2857\nshop restart 1 0.1429"},
		// Nov 2: D1 ok, D2 failed; Nov 3: D4, D10 ok, D8, D9 failed;
		// Nov 4: D6 ok; Nov 10: D13 running.
		{"per day", Params{Metric: DeploysPerPeriod}, "period deploys succeeded failed cancelled",
			"2026-11-02 00:00:00 2 1 1 0\n2026-11-03 00:00:00 4 2 2 0\n2026-11-04 00:00:00 1 1 0 0\n2026-11-10 00:00:00 1 0 0 0"},
		{"per week", Params{Metric: DeploysPerPeriod, Period: "week"}, "period deploys succeeded failed cancelled",
			"2026-11-02 00:00:00 7 4 3 0\n2026-11-09 00:00:00 1 0 0 0"},
		// Successful deploys: D4 120 s, D6 180 s, D1 240 s (its last
		// cluster), D10 300 s. p50 = 210; p90 = 240 + 0.7 × 60 = 282.
		{"duration", Params{Metric: Duration}, "deploys p50_seconds p90_seconds max_seconds", "4 210 282 300"},
		// shop: 120, 180, 240: p90 = 180 + 0.8 × 60 = 228.
		{"duration by project", Params{Metric: Duration, By: []string{"project"}}, "project deploys p50_seconds p90_seconds max_seconds",
			"api 1 300 300 300\nshop 3 180 228 240"},
		// Finished deploys: 7, of which D2, D8, D9 failed.
		{"failure rate", Params{Metric: FailureRate}, "deploys failed failure_rate", "7 3 0.4286"},
		{"failure rate by project", Params{Metric: FailureRate, By: []string{"project"}}, "project deploys failed failure_rate",
			"api 3 2 0.6667\nshop 4 1 0.25"},
		{"failure rate of shop", Params{Metric: FailureRate, Project: []string{"shop"}}, "deploys failed failure_rate", "4 1 0.25"},
		{"failure rate of team T-API", Params{Metric: FailureRate, Team: []string{"T-API"}}, "deploys failed failure_rate", "3 2 0.6667"},
		// 4 successful deploys on 3 days (Nov 2, 3, 4) over 14 days.
		{"deployment frequency", Params{Metric: DeploymentFrequency}, "deploys active_days deploys_per_day", "4 3 0.286"},
		// D1: 08:00 → 10:04, 7,440 s; D4: 07:00 → 09:02, 7,320 s.
		// p50 = 7,380 s = 2.05 h; p90 = 7,320 + 0.9 × 120 = 7,428 s.
		{"lead time", Params{Metric: LeadTime}, "deploys p50_hours p90_hours", "2 2.05 2.06"},
		// D2, D8, D9 failed; D6's rollback (D7) came 24 h 57 min after it
		// finished: outside 24 h, inside 48 h.
		{"change failure rate", Params{Metric: ChangeFailureRate}, "deploys failed_changes change_failure_rate", "7 3 0.4286"},
		{"change failure rate within 48h", Params{Metric: ChangeFailureRate, Within: 48 * time.Hour}, "deploys failed_changes change_failure_rate", "7 4 0.5714"},
		{"change failure rate by project", Params{Metric: ChangeFailureRate, By: []string{"project"}, Within: 48 * time.Hour},
			"project deploys failed_changes change_failure_rate", "api 3 2 0.6667\nshop 4 2 0.5"},
		// shop: D2 failed at 14:05, D3 restored at 14:11: 6 min. api: D8
		// failed at 10:01 (D9 continues the streak), D10 restored at
		// 11:05: 64 min. p90 = 6 + 0.9 × 58 = 58.2.
		{"time to restore", Params{Metric: TimeToRestore}, "failures restored p50_minutes p90_minutes max_minutes", "2 2 35 58.2 64"},
		{"time to restore by project", Params{Metric: TimeToRestore, By: []string{"project", "environment"}},
			"project environment failures restored p50_minutes p90_minutes max_minutes", "api staging 1 1 64 64 64\nshop prod 1 1 6 6 6"},
		// A range holding D9 only: D9 continues D8's streak, no new failure.
		{"time to restore mid-streak", Params{Metric: TimeToRestore, From: at(3, 10, 15, 0), To: at(3, 10, 45, 0)},
			"failures restored p50_minutes p90_minutes max_minutes", "0 0 NULL NULL NULL"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := c.p
			if p.From.IsZero() {
				p.From, p.To = from, to
			}
			res, err := r.Run(context.Background(), p)
			require.NoError(t, err)
			names := make([]string, len(res.Columns))
			for i, col := range res.Columns {
				names[i] = col.Name
			}
			require.Equal(t, c.cols, strings.Join(names, " "))
			require.Equal(t, c.want, rows(res))
		})
	}

	// The annotations: every action, the scale with its replicas.
	sql, err := AnnotationsSQL(AnnotationParams{From: from, To: to, Actions: []string{"scale", "rollback"}})
	require.NoError(t, err)
	var b strings.Builder
	require.NoError(t, s.Query(context.Background(), &b, sql, "TSV"))
	require.Equal(t, strings.Join([]string{
		"2026-11-02 14:10:00.000\t2026-11-02 14:11:00.000\t✅ shop · prod · rollback\tJane Doe (furrow): succeeded, shop:v3, 60 s\tshop,prod,E100,succeeded,rollback",
		"2026-11-04 08:00:00.000\t2026-11-04 08:00:10.000\t✅ api · staging · scale 2→4\tJane Doe (furrow): succeeded, api:v11, 10 s\tapi,staging,E100,succeeded,scale",
		"2026-11-05 11:00:00.000\t2026-11-05 11:01:00.000\t✅ shop · prod · rollback\tJane Doe (furrow): succeeded, shop:v7, 60 s\tshop,prod,E100,succeeded,rollback",
	}, "\n")+"\n", b.String())

	// The API: a metric as JSON, bad parameters refused with the reason.
	gin.SetMode(gin.TestMode)
	e := gin.New()
	r.Routes(e.Group("/api/v1"))
	get := func(q string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/deploys/metrics?"+q, nil))
		return rec
	}
	rec := get("metric=failure_rate&from=2026-11-01&to=2026-11-14&by=project")
	require.Equal(t, 200, rec.Code, rec.Body.String())
	var body struct {
		Metric string           `json:"metric"`
		Rows   []map[string]any `json:"rows"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	require.Equal(t, "failure_rate", body.Metric)
	require.Equal(t, []map[string]any{{"project": "api", "deploys": 3.0, "failed": 2.0, "failure_rate": 0.6667},
		{"project": "shop", "deploys": 4.0, "failed": 1.0, "failure_rate": 0.25}}, body.Rows)
	for q, want := range map[string]string{
		"metric=mttr":                                   `metric \"mttr\"`,
		"metric=duration&by=cluster":                    `by \"cluster\"`,
		"metric=duration&from=yesterday":                `from \"yesterday\"`,
		"metric=duration&from=2026-11-05&to=2026-11-01": "time range",
		"metric=change_failure_rate&within=forever":     `within \"forever\"`,
		"metric=deploys_per_period&period=month":        `period \"month\"`,
	} {
		rec := get(q)
		require.Equal(t, 400, rec.Code, q)
		require.Contains(t, rec.Body.String(), want, q)
	}
}

// TestParseQuery: defaults and lists.
func TestParseQuery(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	p, err := ParseQuery(map[string][]string{"metric": {"lead_time"}, "project": {"a,b", "c"}, "within": {"2d"}, "to": {"2026-11-30"}}, now)
	require.NoError(t, err)
	require.Equal(t, []string{"a", "b", "c"}, p.Project)
	require.Equal(t, 48*time.Hour, p.Within)
	require.Equal(t, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), p.To)
	require.Equal(t, p.To.Add(-30*24*time.Hour), p.From)
	p, err = ParseQuery(map[string][]string{"metric": {"duration"}}, now)
	require.NoError(t, err)
	require.Equal(t, now, p.To)
}
