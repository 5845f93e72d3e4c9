package datasource

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/ingest/ledger"
	"github.com/furrowdev/furrow/internal/testenv/chtest"
	"github.com/furrowdev/furrow/migrations"
	"github.com/furrowdev/furrow/query/cost"
)

// costServer is furrow's cost API (the real component and routes, on a
// real engine) over three weeks of a bill: team t-shop's S3 bucket (about
// 20 USD a day, 200 on the last day: an unintended increase), an untagged
// load balancer (unowned), and one euro line item; allocated and judged
// as furrow serve does.
func costServer(t *testing.T) *Datasource {
	t.Helper()
	ctx := context.Background()
	s := chtest.Store(t)
	_, err := migrations.New(s, migrations.Options{}).Up(ctx)
	require.NoError(t, err)
	exec := func(q string) { require.NoError(t, s.Exec(ctx, q), q) }
	exec(`INSERT INTO catalog_teams VALUES (1, 't-shop', 'Shop', '', 0)`)
	exec(`INSERT INTO catalog_projects VALUES (1, 'p-shop', 'Shop', 't-shop', 0)`)
	var items []string
	line := 1
	item := func(day time.Time, service, resource string, amount float64, currency, tags string) {
		line++
		items = append(items, fmt.Sprintf(`('d1', 'AWS', '111', '222', '2026-11-01', '%s', '%s', 'Usage', '%s', 'us-east-1', '%s', %.2f, %.2f, '%s', %s, 'Usage', 'Usage', 'bill.csv', %d)`,
			day.Format(time.DateTime), day.Add(24*time.Hour).Format(time.DateTime), service, resource, amount, amount, currency, tags, line))
	}
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 22; i++ {
		d := start.AddDate(0, 0, i)
		s3 := 20 + float64(i%3)/2
		if i == 21 {
			s3 = 200 // a bucket's lifecycle rule removed by mistake
		}
		item(d, "Amazon S3", "shop-assets", s3, "USD", "map('user_project', 'p-shop')")
		item(d, "Elastic Load Balancing", "lb-9", 5, "USD", "map()")
	}
	item(start.AddDate(0, 0, 1), "Amazon S3", "shop-eu", 3, "EUR", "map('user_project', 'p-shop')")
	exec(`INSERT INTO billing_line_items (delivery, provider, billing_account_id, sub_account_id, billing_period_start, charge_period_start, charge_period_end,
		charge_category, service_name, region_id, resource_id, billed_cost, effective_cost, billing_currency, tags, x_usage_type, x_line_item_type, source_file, source_line) VALUES ` +
		strings.Join(items, ", "))
	_, err = ledger.New(s, "billing", "").ReplacePeriod(ctx, ledger.Period{Period: "111/2026-11-01", ID: "d1", URL: "bill.csv", Version: time.Now()}, time.Now())
	require.NoError(t, err)
	c, err := cost.New(cost.DefaultConfiguration(), cost.Dependencies{Store: s, Now: func() time.Time { return time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC) }})
	require.NoError(t, err)
	_, err = c.Allocate(ctx, nil)
	require.NoError(t, err)

	gin.SetMode(gin.TestMode)
	engine := gin.New()
	api := engine.Group("/api/v1")
	c.Routes(api, api)
	srv := httptest.NewServer(engine)
	t.Cleanup(srv.Close)
	settings, _ := json.Marshal(map[string]any{"url": srv.URL})
	inst, err := NewDatasource(ctx, backend.DataSourceInstanceSettings{JSONData: settings})
	require.NoError(t, err)
	return inst.(*Datasource)
}

// fieldByName is a frame's field, failing the test when it is missing.
func fieldByName(t *testing.T, f *data.Frame, name string) *data.Field {
	t.Helper()
	field, idx := f.FieldByName(name)
	require.GreaterOrEqual(t, idx, 0, "no field %q in %s", name, f.Name)
	return field
}

func fieldNames(f *data.Frame) []string {
	out := make([]string, len(f.Fields))
	for i, fl := range f.Fields {
		out[i] = fl.Name
	}
	return out
}

func TestCostQueries(t *testing.T) {
	d := costServer(t)
	nov := backend.TimeRange{From: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)}
	run := func(model map[string]any, tr backend.TimeRange) backend.DataResponse {
		js, err := json.Marshal(model)
		require.NoError(t, err)
		resp, err := d.QueryData(context.Background(), &backend.QueryDataRequest{
			Queries: []backend.DataQuery{{RefID: "A", JSON: js, TimeRange: tr, Interval: time.Hour, MaxDataPoints: 1000}}})
		require.NoError(t, err)
		return resp.Responses["A"]
	}
	sum := func(f *data.Field) float64 {
		var s float64
		for i := 0; i < f.Len(); i++ {
			if v, ok := f.ConcreteAt(i); ok {
				s += v.(float64)
			}
		}
		return s
	}
	usd := 22*5 + 200.0
	for i := 0; i < 21; i++ {
		usd += 20 + float64(i%3)/2
	}

	cases := []struct {
		name   string
		model  map[string]any
		fields []string // the table's fields, in order ("" when not a table)
		rows   int
		check  func(t *testing.T, f *data.Frame)
	}{
		{"total per kind and currency", map[string]any{"queryType": "cost"}, []string{"kind", "currency", "cost"}, 3, func(t *testing.T, f *data.Frame) {
			require.Empty(t, fieldByName(t, f, "cost").Config.Unit, "two currencies: no unit")
			require.NotEmpty(t, f.Meta.Notices)
			require.Contains(t, f.Meta.ExecutedQueryString, "GET /api/v1/cost/breakdown?")
		}},
		{"one currency: its unit, the bill adds up", map[string]any{"queryType": "cost", "by": "team", "currency": "USD"},
			[]string{"team", "team_name", "kind", "currency", "cost"}, 2, func(t *testing.T, f *data.Frame) {
				cost := fieldByName(t, f, "cost")
				require.Equal(t, "currencyUSD", cost.Config.Unit)
				require.InDelta(t, usd, sum(cost), 1e-6)
				require.Equal(t, "Shop", fieldByName(t, f, "team_name").At(0))
				require.Equal(t, "(unowned)", fieldByName(t, f, "team_name").At(1))
			}},
		{"euro", map[string]any{"queryType": "cost", "currency": "EUR", "by": "team,project"},
			[]string{"team", "team_name", "project", "kind", "currency", "cost"}, 1, func(t *testing.T, f *data.Frame) {
				require.Equal(t, "currencyEUR", fieldByName(t, f, "cost").Config.Unit)
				require.Equal(t, 3.0, fieldByName(t, f, "cost").At(0))
			}},
		{"daily table: time first", map[string]any{"queryType": "cost", "by": "team", "granularity": "day", "currency": "USD", "team": "t-shop"},
			[]string{"day", "team", "team_name", "kind", "currency", "cost"}, 22, func(t *testing.T, f *data.Frame) {
				require.Equal(t, data.FieldTypeTime, f.Fields[0].Type())
				require.Equal(t, time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC), f.Fields[0].At(21))
				require.Equal(t, 200.0, fieldByName(t, f, "cost").At(21))
			}},
		{"daily time series: a wide frame per team and kind", map[string]any{"queryType": "cost", "by": "team", "granularity": "day", "currency": "USD", "format": "time_series"},
			nil, 22, func(t *testing.T, f *data.Frame) {
				require.Len(t, f.Fields, 3, "time, Shop, (unowned)")
				require.Equal(t, data.FieldTypeTime, f.Fields[0].Type())
				names := map[string]float64{}
				for _, fl := range f.Fields[1:] {
					require.Equal(t, "currencyUSD", fl.Config.Unit)
					require.NotContains(t, fl.Labels, "currency", "one currency: not a label")
					names[fl.Config.DisplayNameFromDS] = sum(fl)
				}
				require.InDelta(t, 22*5, names["(unowned)"], 1e-6)
				require.InDelta(t, usd-22*5, names["Shop"], 1e-6)
			}},
		{"hourly series, effective, both currencies", map[string]any{"queryType": "cost", "granularity": "hour", "metric": "effective", "format": "time_series"},
			nil, 22, func(t *testing.T, f *data.Frame) {
				units := map[string]string{}
				for _, fl := range f.Fields[1:] {
					units[fl.Config.DisplayNameFromDS] = fl.Config.Unit
				}
				require.Equal(t, map[string]string{"allocated USD": "currencyUSD", "(unowned) USD": "currencyUSD", "allocated EUR": "currencyEUR"}, units)
			}},
		{"ad hoc filter on team", map[string]any{"queryType": "cost", "by": "project", "currency": "USD",
			"adHocFilters": []map[string]string{{"key": "team", "operator": "=", "value": "t-shop"}}},
			[]string{"project", "kind", "currency", "cost"}, 1, nil},
		{"All is no filter", map[string]any{"queryType": "cost", "by": "$__all", "team": "$__all", "currency": "USD"},
			[]string{"kind", "currency", "cost"}, 2, nil},
		{"network: no network line items", map[string]any{"queryType": "cost_network"}, networkColumns, 0, func(t *testing.T, f *data.Frame) {
			require.Equal(t, "currencyUSD", fieldByName(t, f, "bill").Config.Unit)
		}},
		{"summary as of the range's end", map[string]any{"queryType": "cost_summary"}, summaryColumns, 3, func(t *testing.T, f *data.Frame) {
			require.Contains(t, f.Meta.ExecutedQueryString, "at=2026-11-23T00%3A00%3A00Z")
			require.Empty(t, fieldByName(t, f, "forecast").Config.Unit, "USD and EUR")
			require.Equal(t, "percent", fieldByName(t, f, "change_pct").Config.Unit)
			require.Nil(t, fieldByName(t, f, "change_pct").At(0), "no previous month: no change")
		}},
		{"anomalies as annotations", map[string]any{"queryType": "cost_anomalies"}, nil, 1, func(t *testing.T, f *data.Frame) {
			require.Equal(t, []string{"time", "timeEnd", "title", "text"}, fieldNames(f)[:4])
			require.Equal(t, time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC), f.Fields[0].At(0))
			require.Equal(t, time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), f.Fields[1].At(0))
			require.Regexp(t, `^Shop/p-shop Amazon S3 \+1[78]\d\.\d\d USD$`, f.Fields[2].At(0))
			require.Regexp(t, `^Amazon S3 cost 200\.00 USD on 2026-11-22 against a baseline of 2\d\.\d\d USD \(robust score \d+(\.\d)?\); reached its owner by the tag rule$`, f.Fields[3].At(0))
			require.Equal(t, "currencyUSD", fieldByName(t, f, "increase").Config.Unit)
		}},
		{"anomalies as a table", map[string]any{"queryType": "cost_anomalies", "format": "table"}, nil, 1, func(t *testing.T, f *data.Frame) {
			require.Equal(t, anomalyColumns, fieldNames(f)[:len(anomalyColumns)])
			require.Equal(t, data.FieldTypeTime, f.Fields[0].Type())
		}},
		{"anomalies outside the range", map[string]any{"queryType": "cost_anomalies", "format": "table"}, nil, 0, nil},
		{"daily steps cover whole days", map[string]any{"queryType": "cost", "granularity": "day", "currency": "USD", "team": "t-shop"},
			[]string{"day", "kind", "currency", "cost"}, 3, func(t *testing.T, f *data.Frame) {
				require.Contains(t, f.Meta.ExecutedQueryString, "from=2026-11-02T00%3A00%3A00Z")
				require.Contains(t, f.Meta.ExecutedQueryString, "to=2026-11-05T00%3A00%3A00Z")
				require.Equal(t, time.Date(2026, 11, 4, 0, 0, 0, 0, time.UTC), f.Fields[0].At(2))
			}},
		{"hourly steps keep the range", map[string]any{"queryType": "cost", "granularity": "hour", "currency": "USD", "team": "t-shop"},
			[]string{"hour", "kind", "currency", "cost"}, 2, func(t *testing.T, f *data.Frame) {
				require.Contains(t, f.Meta.ExecutedQueryString, "from=2026-11-02T06%3A00%3A00Z")
			}},
	}
	ranges := map[string]backend.TimeRange{
		"anomalies outside the range":  {From: nov.From, To: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)},
		"daily steps cover whole days": {From: time.Date(2026, 11, 2, 6, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 4, 18, 0, 0, 0, time.UTC)},
		"hourly steps keep the range":  {From: time.Date(2026, 11, 2, 6, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 4, 18, 0, 0, 0, time.UTC)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr, ok := ranges[tc.name]
			if !ok {
				tr = nov
			}
			r := run(tc.model, tr)
			require.NoError(t, r.Error)
			require.Len(t, r.Frames, 1)
			f := r.Frames[0]
			if tc.fields != nil {
				require.Equal(t, tc.fields, fieldNames(f))
			}
			n, err := f.RowLen()
			require.NoError(t, err)
			require.Equal(t, tc.rows, n)
			if tc.check != nil {
				tc.check(t, f)
			}
		})
	}

	bad := []struct {
		name  string
		model map[string]any
		want  string
	}{
		{"unknown dimension", map[string]any{"queryType": "cost", "by": "colour"}, "by \"colour\""},
		{"unknown metric", map[string]any{"queryType": "cost", "metric": "list"}, "metric"},
		{"series without a granularity", map[string]any{"queryType": "cost", "format": "time_series"}, "granularity"},
		{"bad granularity", map[string]any{"queryType": "cost", "granularity": "week"}, "granularity"},
		{"unknown values list", map[string]any{"queryType": "values", "values": "colours"}, "cost_teams"},
	}
	for _, tc := range bad {
		r := run(tc.model, nov)
		require.Error(t, r.Error, tc.name)
		require.Contains(t, r.Error.Error(), tc.want, tc.name)
		require.Equal(t, backend.ErrorSourceDownstream, r.ErrorSource, tc.name)
		require.Equal(t, backend.StatusBadRequest, r.Status, tc.name)
	}
}

// TestCostFrames covers what furrow's answers may hold that the fixture
// does not: currencies Grafana has no unit for, cells that are not what
// their column promises, columns furrow adds later.
func TestCostFrames(t *testing.T) {
	for _, tc := range []struct{ code, unit string }{
		{"USD", "currencyUSD"}, {"EUR", "currencyEUR"}, {"JPY", "currencyJPY"}, {"KRW", "currencyKRW"}, {"CAD", "suffix: CAD"}, {"", "currencyUSD"},
	} {
		require.Equal(t, tc.unit, currencyUnit(tc.code), tc.code)
	}

	decode := func(s string) costRows {
		var out costRows
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		require.NoError(t, dec.Decode(&out))
		return out
	}
	f, err := costTableFrame("A", decode(`[{"day": "2026-11-02", "class": "nat", "bill": 1.5, "attributed": "", "zz_new": "x", "aa_new": 2}]`), networkColumns)
	require.NoError(t, err)
	require.Equal(t, []string{"day", "class", "bill", "attributed", "aa_new", "zz_new"}, fieldNames(f))
	require.Equal(t, data.FieldTypeNullableFloat64, fieldByName(t, f, "attributed").Type())
	require.Equal(t, data.FieldTypeFloat64, fieldByName(t, f, "aa_new").Type())

	for _, rows := range []string{
		`[{"day": "yesterday", "bill": 1}]`,
		`[{"hour": "2026-11-02", "cost": 1}]`,
		`[{"day": "2026-11-02", "bill": 1e999}]`,
	} {
		_, err := costTableFrame("A", decode(rows), networkColumns)
		require.Error(t, err, rows)
	}
	_, err = anomaliesFrame("A", "", decode(`[{"day": "2026-13-01", "cost": 1}]`))
	require.Error(t, err)

	// A column whose cells are numbers in one row and words in another is text.
	f, err = costTableFrame("A", decode(`[{"owner": "a", "forecast": 1}, {"owner": "b", "forecast": "n/a"}]`), summaryColumns)
	require.NoError(t, err)
	require.Equal(t, []any{"1", "n/a"}, []any{fieldByName(t, f, "forecast").At(0), fieldByName(t, f, "forecast").At(1)})

	// The summary's team of unowned cost is empty and its change empty.
	title, text := anomalyText(map[string]any{"day": "2026-11-02", "team": "(unowned)", "service": "Amazon EC2", "currency": "USD",
		"rule": "none", "cost": json.Number("120.456"), "baseline": json.Number("20"), "increase": json.Number("100.456"), "score": json.Number("7.5")})
	require.Equal(t, "(unowned) Amazon EC2 +100.46 USD", title)
	require.Equal(t, "Amazon EC2 cost 120.46 USD on 2026-11-02 against a baseline of 20.00 USD (robust score 7.5)", text)

	require.Equal(t, "Shop / checkout (shared)", seriesName([]string{"team", "namespace"}, data.Labels{"team": "t", "team_name": "Shop", "namespace": "checkout", "kind": "shared"}, false))
	require.Equal(t, "(idle)", seriesName([]string{"team"}, data.Labels{"team": "", "team_name": "(idle)", "kind": "idle"}, false))
	require.Equal(t, "(idle) EUR", seriesName(nil, data.Labels{"kind": "idle", "currency": "EUR"}, true))
}

// FuzzCostFrames feeds furrow-like answers of any shape to the frame
// builders: an error or a frame whose fields have one length, never a
// panic.
func FuzzCostFrames(f *testing.F) {
	f.Add(`[{"day": "2026-11-02", "team": "t", "team_name": "Shop", "kind": "allocated", "currency": "USD", "cost": 1.5, "increase": 2, "baseline": 1, "score": 3}]`)
	f.Add(`[{"day": "2026-11-02", "team": "", "kind": "idle", "currency": "EUR", "cost": 1}, {"day": "2026-11-02", "team": "", "kind": "idle", "currency": "EUR", "cost": 2}]`)
	f.Add(`[{"day": "2026-11-02", "cost": "x"}, {"day": 5, "cost": null}, {}]`)
	f.Add(`[{"day": "2026-11-02", "kind": "a", "cost": 1}, {"day": "2026-11-01", "kind": "b", "currency": "JPY", "cost": -1e300}]`)
	f.Fuzz(func(t *testing.T, answer string) {
		var rows costRows
		dec := json.NewDecoder(strings.NewReader(answer))
		dec.UseNumber()
		if dec.Decode(&rows) != nil {
			return
		}
		check := func(fr *data.Frame, err error) {
			if err != nil {
				return
			}
			if _, err := fr.RowLen(); err != nil {
				t.Fatalf("%s: %v", answer, err)
			}
		}
		check(costTableFrame("A", rows, summaryColumns))
		check(anomaliesFrame("A", "", rows))
		check(breakdownFrame("A", Query{By: "team", Granularity: "day", Format: "time_series"}, rows))
		check(breakdownFrame("A", Query{Format: "table"}, rows))
	})
}
