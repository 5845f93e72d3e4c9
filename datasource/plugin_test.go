package datasource_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend/grpcplugin"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	"github.com/hashicorp/go-plugin"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/internal/testenv/furrowtest"
	"github.com/furrowdev/furrow/query/traffic"
)

func TestMain(m *testing.M) {
	code := m.Run()
	furrowtest.Stop()
	os.Exit(code)
}

// pluginClients are the plugin's gRPC services, as Grafana reaches them.
type pluginClients struct {
	data        pluginv2.DataClient
	diagnostics pluginv2.DiagnosticsClient
	resource    pluginv2.ResourceClient
}

// startPlugin builds the plugin binary and starts it the way Grafana does:
// hashicorp go-plugin's handshake (magic cookie, protocol version 2), gRPC.
func startPlugin(t testing.TB) pluginClients {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	bin := filepath.Join(t.TempDir(), "gpx_furrow")
	build := exec.Command("go", "build", "-o", bin, "./cmd/furrow-datasource")
	build.Dir = filepath.Dir(file)
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)

	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig: plugin.HandshakeConfig{ProtocolVersion: grpcplugin.ProtocolVersion,
			MagicCookieKey: grpcplugin.MagicCookieKey, MagicCookieValue: grpcplugin.MagicCookieValue},
		VersionedPlugins: map[int]plugin.PluginSet{grpcplugin.ProtocolVersion: {"data": &grpcplugin.DataGRPCPlugin{}, "diagnostics": &grpcplugin.DiagnosticsGRPCPlugin{}, "resource": &grpcplugin.ResourceGRPCPlugin{}}},
		Cmd:              exec.Command(bin),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Managed:          false,
		SyncStdout:       io.Discard,
		SyncStderr:       io.Discard,
	})
	t.Cleanup(client.Kill)
	rpc, err := client.Client()
	require.NoError(t, err)
	get := func(name string) any {
		v, err := rpc.Dispense(name)
		require.NoError(t, err)
		return v
	}
	return pluginClients{
		data:        get("data").(pluginv2.DataClient),
		diagnostics: get("diagnostics").(pluginv2.DiagnosticsClient),
		resource:    get("resource").(pluginv2.ResourceClient),
	}
}

// pluginContext is what Grafana sends about the datasource; each
// configuration is its own datasource (Grafana keeps an instance per id
// until its settings change).
var datasourceIDs = map[string]int64{}

func pluginContext(url, token string) *pluginv2.PluginContext {
	id, ok := datasourceIDs[url+" "+token]
	if !ok {
		id = int64(len(datasourceIDs) + 1)
		datasourceIDs[url+" "+token] = id
	}
	js, _ := json.Marshal(map[string]any{"url": url, "rowLimit": 500})
	return &pluginv2.PluginContext{
		OrgId: 1, PluginId: "furrowdev-furrow-datasource",
		User: &pluginv2.User{Login: "sre-alice", Role: "Viewer"},
		DataSourceInstanceSettings: &pluginv2.DataSourceInstanceSettings{
			Id: id, Uid: fmt.Sprintf("furrow-%d", id), Name: "furrow", JsonData: js, LastUpdatedMS: 1,
			DecryptedSecureJsonData: map[string]string{"token": token},
		},
	}
}

// demoRange is the demo data set's two days.
var demoRange = &pluginv2.TimeRange{
	FromEpochMS: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).UnixMilli(),
	ToEpochMS:   time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC).UnixMilli(),
}

func query(refID string, model map[string]any) *pluginv2.DataQuery {
	js, _ := json.Marshal(model)
	return &pluginv2.DataQuery{RefId: refID, Json: js, TimeRange: demoRange, IntervalMS: 3_600_000, MaxDataPoints: 1000}
}

func frames(t *testing.T, r *pluginv2.DataResponse) data.Frames {
	t.Helper()
	require.Empty(t, r.Error)
	fs, err := data.UnmarshalArrowFrames(r.Frames)
	require.NoError(t, err)
	return fs
}

// TestPluginProtocol runs the built plugin over Grafana's protocol against
// a furrow serving the demo data: CheckHealth (ok, bad token,
// unreachable), QueryData for every query type, CallResource.
func TestPluginProtocol(t *testing.T) {
	srv := furrowtest.Demo(t)
	p := startPlugin(t)
	ctx := context.Background()

	h, err := p.diagnostics.CheckHealth(ctx, &pluginv2.CheckHealthRequest{PluginContext: pluginContext(srv.URL, furrowtest.Token)})
	require.NoError(t, err)
	require.Equal(t, pluginv2.CheckHealthResponse_OK, h.Status, h.Message)
	require.Contains(t, h.Message, "schema version")

	h, err = p.diagnostics.CheckHealth(ctx, &pluginv2.CheckHealthRequest{PluginContext: pluginContext(srv.URL, "wrong-token")})
	require.NoError(t, err)
	require.Equal(t, pluginv2.CheckHealthResponse_ERROR, h.Status)
	require.Contains(t, h.Message, "refused the token")
	require.NotContains(t, h.Message, "wrong-token", "tokens never reach messages")

	h, err = p.diagnostics.CheckHealth(ctx, &pluginv2.CheckHealthRequest{PluginContext: pluginContext("http://127.0.0.1:1", furrowtest.Token)})
	require.NoError(t, err)
	require.Equal(t, pluginv2.CheckHealthResponse_ERROR, h.Status)
	require.Contains(t, h.Message, "cannot reach furrow")

	resp, err := p.data.QueryData(ctx, &pluginv2.QueryDataRequest{
		PluginContext: pluginContext(srv.URL, furrowtest.Token),
		Headers:       map[string]string{"http_X-Dashboard-Uid": "furrow-cross-zone", "http_X-Panel-Id": "3"},
		Queries: []*pluginv2.DataQuery{
			query("series", map[string]any{"queryType": "sql", "format": "time_series",
				"rawSql": "SELECT $__timeInterval(hour) AS time, traffic_class, sum(cost_usd) AS cost FROM flow_traffic_hourly WHERE $__timeFilter(hour) GROUP BY time, traffic_class ORDER BY time"}),
			query("table", map[string]any{"rawSql": "SELECT src_namespace, count() AS n FROM flow_logs WHERE $__timeFilter(start) GROUP BY src_namespace ORDER BY n DESC"}),
			query("capped", map[string]any{"rawSql": "SELECT start, bytes FROM flow_logs LIMIT 1000"}),
			query("top", map[string]any{"queryType": "top_talkers", "by": "namespace", "limit": 5}),
			query("cost", map[string]any{"queryType": "cost_per_day", "classes": []string{"all"}}),
			query("ba", map[string]any{"queryType": "before_after", "namespace": "checkout", "at": "2026-11-02"}),
			query("skew", map[string]any{"queryType": "zone_skew"}),
			query("ns", map[string]any{"queryType": "values", "values": "namespaces"}),
			query("adhoc", map[string]any{"format": "table", "rawSql": "SELECT DISTINCT src_namespace FROM flow_traffic_daily WHERE $__dateFilter(day)",
				"adHocFilters": []map[string]string{{"key": "src_namespace", "operator": "=", "value": "checkout"}}}),
			query("changes", map[string]any{"queryType": "changes", "at": "2026-11-02, 2026-12-25"}),
			query("costbyteam", map[string]any{"queryType": "cost", "by": "team,project", "granularity": "day", "format": "time_series"}),
			query("anomalies", map[string]any{"queryType": "cost_anomalies"}),
			query("costteams", map[string]any{"queryType": "values", "values": "cost_teams"}),
			query("bad", map[string]any{"rawSql": "DROP TABLE flow_logs"}),
			query("syntax", map[string]any{"rawSql": "SELEC 1"}),
		},
	})
	require.NoError(t, err)

	series := frames(t, resp.Responses["series"])
	require.NotEmpty(t, series)
	require.Greater(t, len(series[0].Fields), 2, "one series per class (long to wide)")
	require.Equal(t, data.FieldTypeTime, series[0].Fields[0].Type())
	require.Contains(t, series[0].Meta.ExecutedQueryString, "toStartOfInterval(toDateTime(hour), INTERVAL 3600 second)")

	table := frames(t, resp.Responses["table"])[0]
	n, _ := table.RowLen()
	require.Greater(t, n, 3)

	capped := frames(t, resp.Responses["capped"])[0]
	n, _ = capped.RowLen()
	require.Equal(t, 500, n, "the row limit")
	require.NotEmpty(t, capped.Meta.Notices)

	// The report through the plugin is the report furrow serves.
	top := frames(t, resp.Responses["top"])[0]
	var want traffic.Talkers
	getJSON(t, srv.URL+"/api/v1/traffic/top?by=namespace&limit=5&from=2026-11-01T00:00:00Z&to=2026-11-03T00:00:00Z", &want)
	n, _ = top.RowLen()
	require.Equal(t, len(want.Rows), n)
	require.NotZero(t, n)
	for i, r := range want.Rows {
		require.Equal(t, r.Src, top.Fields[0].At(i))
		require.Equal(t, r.Dst, top.Fields[1].At(i))
		require.Equal(t, r.Bytes, top.Fields[2].At(i))
	}
	require.Equal(t, "bytes", top.Fields[2].Config.Unit)
	require.Equal(t, "currencyUSD", top.Fields[3].Config.Unit)

	cost := frames(t, resp.Responses["cost"])[0]
	require.Equal(t, data.FieldTypeTime, cost.Fields[0].Type())
	require.Greater(t, len(cost.Fields), 2)

	ba := frames(t, resp.Responses["ba"])[0]
	n, _ = ba.RowLen()
	require.Equal(t, 2, n)

	require.Empty(t, resp.Responses["skew"].Error)

	ns := frames(t, resp.Responses["ns"])[0]
	names := map[string]bool{}
	n, _ = ns.RowLen()
	for i := 0; i < n; i++ {
		names[ns.Fields[0].At(i).(string)] = true
	}
	require.True(t, names["checkout"], "%v", names)

	adhoc := frames(t, resp.Responses["adhoc"])[0]
	n, _ = adhoc.RowLen()
	require.Equal(t, 1, n, "the ad hoc filter applies")
	require.Equal(t, "checkout", adhoc.Fields[0].At(0))

	changes := frames(t, resp.Responses["changes"])[0]
	n, _ = changes.RowLen()
	require.Equal(t, 1, n, "only the change inside the time range")

	// The cost types answer (the demo's bill, if any, is tested in
	// dashboards; the cost frames in cost_test.go).
	for _, ref := range []string{"costbyteam", "anomalies", "costteams"} {
		require.NotEmpty(t, frames(t, resp.Responses[ref]), ref)
	}

	require.Contains(t, resp.Responses["bad"].Error, "READONLY")
	require.Equal(t, "downstream", resp.Responses["bad"].ErrorSource)
	require.Contains(t, resp.Responses["syntax"].Error, "SYNTAX_ERROR")

	// CallResource: the lists of the query editors.
	stream, err := p.resource.CallResource(ctx, &pluginv2.CallResourceRequest{
		PluginContext: pluginContext(srv.URL, furrowtest.Token), Path: "values/zones", Method: http.MethodGet,
	})
	require.NoError(t, err)
	msg, err := stream.Recv()
	require.NoError(t, err)
	require.Equal(t, int32(200), msg.Code)
	var zones []string
	require.NoError(t, json.Unmarshal(msg.Body, &zones))
	require.True(t, sort.StringsAreSorted(zones))
	require.GreaterOrEqual(t, len(zones), 3)
}

func getJSON(t *testing.T, url string, out any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+furrowtest.Token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(out))
}
