package dashboards

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/datasource"
	"github.com/furrowdev/furrow/internal/testenv/furrowtest"
)

// readmeQuery is the SQL the README gives under the comment line that
// starts with comment, up to its closing semicolon.
func readmeQuery(t *testing.T, comment string) string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	text := string(b)
	i := strings.Index(text, "\n"+comment)
	require.GreaterOrEqual(t, i, 0, "README.md has no example %q", comment)
	rest := text[i+1:]
	rest = rest[strings.IndexByte(rest, '\n')+1:]
	end := strings.Index(rest, ";\n")
	require.Positive(t, end, "example %q has no closing semicolon", comment)
	return rest[:end]
}

// TestREADMEAlertQueries runs the README's alert history examples as
// written, through the plugin's SQL path, on furrow serving the demo data
// (its alerts replayed at their receive times): the payments error-budget
// alert is the one still firing, the flapping crash loop resolves within
// minutes and the volume filling up takes hours.
func TestREADMEAlertQueries(t *testing.T) {
	srv := furrowtest.Demo(t)
	settings, _ := json.Marshal(map[string]any{"url": srv.URL})
	inst, err := datasource.NewDatasource(context.Background(), backend.DataSourceInstanceSettings{
		JSONData: settings, DecryptedSecureJSONData: map[string]string{"token": furrowtest.Token},
	})
	require.NoError(t, err)
	ds := inst.(*datasource.Datasource)
	run := func(sql string) *data.Frame {
		raw, _ := json.Marshal(map[string]any{"queryType": datasource.QueryTypeSQL, "format": "table", "rawSql": sql})
		resp, err := ds.QueryData(context.Background(), &backend.QueryDataRequest{Queries: []backend.DataQuery{{RefID: "A", JSON: raw,
			TimeRange: backend.TimeRange{From: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)}}}})
		require.NoError(t, err)
		r := resp.Responses["A"]
		require.NoError(t, r.Error, sql)
		require.NotEmpty(t, r.Frames)
		return r.Frames[0]
	}
	str := func(f *data.Frame, col string, i int) string {
		field, _ := f.FieldByName(col)
		require.NotNil(t, field, col)
		v, ok := field.ConcreteAt(i)
		require.True(t, ok, col)
		switch x := v.(type) {
		case string:
			return x
		case time.Time:
			return x.UTC().Format(time.RFC3339)
		}
		b, _ := json.Marshal(v)
		return string(b)
	}

	history := run(readmeQuery(t, "-- Alert history per namespace and hour"))
	n, _ := history.RowLen()
	require.Greater(t, n, 20, "hours with alerts on the demo's two days")
	stillFiring := map[string]string{}
	namespaces := map[string]bool{}
	for i := range n {
		namespaces[str(history, "namespace", i)] = true
		if s := str(history, "still_firing", i); s != "0" {
			stillFiring[str(history, "namespace", i)] = s
		}
	}
	require.Equal(t, map[string]string{"payments": "1"}, stillFiring)
	require.True(t, namespaces[""], "the node alerts, without a namespace")
	require.True(t, namespaces["recommendations"] && namespaces["checkout"] && namespaces["inventory"], "%v", namespaces)

	resolve := run(readmeQuery(t, "-- Time to resolve per namespace and alert name"))
	n, _ = resolve.RowLen()
	p50 := map[string]string{}
	for i := range n {
		p50[str(resolve, "namespace", i)+"/"+str(resolve, "alertname", i)] = str(resolve, "p50_minutes", i)
	}
	require.NotContains(t, p50, "payments/PaymentsErrorBudgetBurn", "still firing: not resolved")
	require.Contains(t, p50, "recommendations/KubePodCrashLooping")
	require.Contains(t, p50, "monitoring/KubePersistentVolumeFillingUp")
	require.Equal(t, "752", p50["monitoring/KubePersistentVolumeFillingUp"], "02:10 to 14:42")
}

// TestAlertFiltersOnDemo runs the alerts query type with the namespace
// filters a dashboard variable gives (several values, the alerts without
// a namespace) on the demo data: only those namespaces come back.
func TestAlertFiltersOnDemo(t *testing.T) {
	srv := furrowtest.Demo(t)
	settings, _ := json.Marshal(map[string]any{"url": srv.URL})
	inst, err := datasource.NewDatasource(context.Background(), backend.DataSourceInstanceSettings{
		JSONData: settings, DecryptedSecureJSONData: map[string]string{"token": furrowtest.Token},
	})
	require.NoError(t, err)
	ds := inst.(*datasource.Datasource)
	for _, c := range []struct {
		namespace string
		want      []string
	}{
		{"cart,orders", []string{"cart", "orders"}},
		{"(no namespace)", []string{"(no namespace)"}},
		{"payments", []string{"payments"}},
	} {
		raw, _ := json.Marshal(datasource.Query{QueryType: datasource.QueryTypeAlerts, Format: "table", By: "namespace", Namespace: c.namespace})
		resp, err := ds.QueryData(context.Background(), &backend.QueryDataRequest{Queries: []backend.DataQuery{{RefID: "A", JSON: raw,
			TimeRange: backend.TimeRange{From: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)}}}})
		require.NoError(t, err)
		r := resp.Responses["A"]
		require.NoError(t, r.Error, c.namespace)
		field, _ := r.Frames[0].FieldByName("namespace")
		require.NotNil(t, field)
		var got []string
		for i := range field.Len() {
			v, _ := field.ConcreteAt(i)
			got = append(got, v.(string))
		}
		require.ElementsMatch(t, c.want, got, c.namespace)
	}
}
