package dashboards

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/datasource"
	"github.com/furrowdev/furrow/internal/testenv/furrowtest"
)

var update = flag.Bool("update", false, "rewrite the golden dashboards")

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	furrowtest.Stop()
	os.Exit(code)
}

// TestGolden pins each generated dashboard's JSON.
func TestGolden(t *testing.T) {
	for name, b := range All() {
		got, err := JSON(b)
		require.NoError(t, err, name)
		path := filepath.Join("testdata", name)
		if *update {
			require.NoError(t, os.MkdirAll("testdata", 0o755))
			require.NoError(t, os.WriteFile(path, got, 0o644))
		}
		want, err := os.ReadFile(path)
		require.NoError(t, err, "go test ./dashboards -update writes %s", path)
		require.Equal(t, string(want), string(got), "%s differs (go test ./dashboards -update if intended)", name)
	}
}

// interpolate does what Grafana does with a target before it reaches the
// plugin: variables replaced by their values (All is $__all).
var interpolate = strings.NewReplacer(
	"${class}", "cross-zone",
	"${cluster}", "$__all",
	"${namespace}", "$__all",
	"${change}", "2026-11-02",
	"${team}", "$__all",
	"${alertname}", "$__all",
	"${project}", "$__all",
	"${environment}", "$__all",
)

type panelJSON struct {
	Title   string            `json:"title"`
	Type    string            `json:"type"`
	Targets []json.RawMessage `json:"targets"`
	Panels  []panelJSON       `json:"panels"`
}

// TestDashboardQueriesOnDemo runs every furrow target of every dashboard
// through the plugin's query path against furrow serving the demo data:
// no panel fails, none is empty.
func TestDashboardQueriesOnDemo(t *testing.T) {
	srv := furrowtest.Demo(t)
	settings, _ := json.Marshal(map[string]any{"url": srv.URL})
	inst, err := datasource.NewDatasource(context.Background(), backend.DataSourceInstanceSettings{
		JSONData: settings, DecryptedSecureJSONData: map[string]string{"token": furrowtest.Token},
	})
	require.NoError(t, err)
	ds := inst.(*datasource.Datasource)
	demo := backend.TimeRange{From: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)}

	for name, b := range All() {
		out, err := JSON(b)
		require.NoError(t, err)
		var d struct {
			Panels      []panelJSON `json:"panels"`
			Annotations struct {
				List []struct {
					Name   string          `json:"name"`
					Target json.RawMessage `json:"target"`
				} `json:"list"`
			} `json:"annotations"`
		}
		require.NoError(t, json.Unmarshal(out, &d))
		var panels []panelJSON
		for _, p := range d.Panels {
			panels = append(panels, p)
			panels = append(panels, p.Panels...)
		}
		// An annotation query runs like a panel's target: as one more panel.
		for _, a := range d.Annotations.List {
			if len(a.Target) > 0 {
				panels = append(panels, panelJSON{Title: "annotations: " + a.Name, Targets: []json.RawMessage{a.Target}})
			}
		}
		ran := 0
		for _, p := range panels {
			for i, raw := range p.Targets {
				var head struct {
					Datasource struct {
						Type string `json:"type"`
					} `json:"datasource"`
				}
				require.NoError(t, json.Unmarshal(raw, &head))
				if head.Datasource.Type != datasource.PluginID {
					continue
				}
				q := backend.DataQuery{RefID: "A", JSON: json.RawMessage(interpolate.Replace(string(raw))), TimeRange: demo,
					Interval: time.Hour, MaxDataPoints: 1000}
				resp, err := ds.QueryData(context.Background(), &backend.QueryDataRequest{Queries: []backend.DataQuery{q}})
				require.NoError(t, err)
				r := resp.Responses["A"]
				require.NoError(t, r.Error, "%s / %s target %d", name, p.Title, i)
				require.NotEmpty(t, r.Frames, "%s / %s", name, p.Title)
				rows, _ := r.Frames[0].RowLen()
				require.Positive(t, rows, "%s / %s: empty on the demo data", name, p.Title)
				if strings.HasPrefix(p.Title, "annotations: ") {
					// What Grafana draws an annotation from.
					for _, f := range []string{"time", "title"} {
						field, _ := r.Frames[0].FieldByName(f)
						require.NotNil(t, field, "%s / %s: no %s field", name, p.Title, f)
					}
				}
				ran++
			}
		}
		if name == "furrow-cross-zone.json" || name == "furrow-cost.json" || name == "furrow-alerts.json" || name == "furrow-deploys.json" {
			require.Positive(t, ran, name)
		}
	}
}
