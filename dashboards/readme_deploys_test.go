package dashboards

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/datasource"
	"github.com/furrowdev/furrow/internal/testenv/furrowtest"
)

// TestREADMEDeployQueries runs the README's deploy examples as written on
// furrow serving the demo data (its deploy history loaded): one failure
// of each cause the demo holds, each in its project, and the actions
// other than deploys (a rollback, 3 restarts, 3 scale events, 2 CronJob
// triggers) on the demo's two days.
func TestREADMEDeployQueries(t *testing.T) {
	srv := furrowtest.Demo(t)
	settings, _ := json.Marshal(map[string]any{"url": srv.URL})
	inst, err := datasource.NewDatasource(context.Background(), backend.DataSourceInstanceSettings{
		JSONData: settings, DecryptedSecureJSONData: map[string]string{"token": furrowtest.Token},
	})
	require.NoError(t, err)
	ds := inst.(*datasource.Datasource)
	run := func(sql string) []map[string]any {
		raw, _ := json.Marshal(map[string]any{"queryType": datasource.QueryTypeSQL, "format": "table", "rawSql": sql})
		resp, err := ds.QueryData(context.Background(), &backend.QueryDataRequest{Queries: []backend.DataQuery{{RefID: "A", JSON: raw,
			TimeRange: backend.TimeRange{From: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)}}}})
		require.NoError(t, err)
		r := resp.Responses["A"]
		require.NoError(t, r.Error, sql)
		f := r.Frames[0]
		n, _ := f.RowLen()
		out := make([]map[string]any, n)
		for i := range n {
			out[i] = map[string]any{}
			for _, fl := range f.Fields {
				v, _ := fl.ConcreteAt(i)
				out[i][fl.Name] = v
			}
		}
		return out
	}
	causes := map[string]string{}
	for _, r := range run(readmeQuery(t, "-- Deploy failure causes per project")) {
		require.Equal(t, 1.0, r["failures"], r)
		causes[r["failure_cause"].(string)] = r["project"].(string)
	}
	require.Equal(t, map[string]string{"ImagePullBackOff": "search", "CrashLoopBackOff": "cart", "ProbeFailing": "recommendations",
		"Timeout": "orders", "LockConflict": "orders"}, causes)

	days := run(readmeQuery(t, "-- Deploys per day and their failure rate"))
	require.Len(t, days, 2)
	other := 0.0
	for _, d := range days {
		require.Greater(t, d["deploys"], 12.0, "every project deploys at least once a day")
		rate := d["failure_rate"].(float64)
		require.True(t, rate > 0 && rate < 0.3, "failure rate %v", rate)
		other += d["other_actions"].(float64)
	}
	require.Equal(t, 9.0, other)
}
