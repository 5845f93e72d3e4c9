package datasource

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/furrowdev/furrow/internal/chsql"
	"github.com/furrowdev/furrow/query/traffic"
)

// Query types: raw SQL, furrow's reports (no SQL to write), and the values
// of a template variable.
const (
	QueryTypeSQL         = "sql"
	QueryTypeTopTalkers  = "top_talkers"
	QueryTypeCostPerDay  = "cost_per_day"
	QueryTypeBeforeAfter = "before_after"
	QueryTypeZoneSkew    = "zone_skew"
	QueryTypeValues      = "values"
	QueryTypeChanges     = "changes"
	// The cost reports (furrow's /api/v1/cost/…): the allocated bill by
	// owner, the network reconciliation, month to date and forecast, and
	// unintended increases (also as annotations).
	QueryTypeCost          = "cost"
	QueryTypeCostNetwork   = "cost_network"
	QueryTypeCostSummary   = "cost_summary"
	QueryTypeCostAnomalies = "cost_anomalies"
	// The alert history: QueryTypeAlerts, QueryTypeAlertAnnotations
	// (alerts.go); the deploy history: QueryTypeDeploys,
	// QueryTypeDeployAnnotations (deploys.go).
)

// Query is a panel query's model (DataQuery.JSON).
type Query struct {
	// QueryType is one of the QueryType constants; "" is sql.
	QueryType string `json:"queryType,omitempty"`
	// RawSQL is the SQL of a sql query, with macros.
	RawSQL string `json:"rawSql,omitempty"`
	// Format is "table" or "time_series" (sql, cost_per_day and cost;
	// cost_anomalies: "table" or, by default, annotations).
	Format string `json:"format,omitempty"`
	// By is the grouping of top_talkers: namespace, workload, zone or
	// team; of cost, a comma-separated list of furrow's cost dimensions
	// (team, project, namespace, workload, cluster, service, account, …).
	By string `json:"by,omitempty"`
	// Classes are traffic classes (default cross-zone; "all" for every one).
	Classes []string `json:"classes,omitempty"`
	// Cluster, Namespace and Workload narrow a report to either end.
	Cluster   string `json:"cluster,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Workload  string `json:"workload,omitempty"`
	// At is the change a before_after report compares around (RFC3339 or
	// YYYY-MM-DD); Window each side's length (7d, 36h).
	At     string `json:"at,omitempty"`
	Window string `json:"window,omitempty"`
	// Limit is the rows of a report (default 20); of cost, the rows per
	// time and currency (0: all).
	Limit int `json:"limit,omitempty"`
	// Granularity is cost's time step: hour, day, month or "" (one row
	// per group over the whole time range).
	Granularity string `json:"granularity,omitempty"`
	// Metric is cost's measure: billed (the default) or effective
	// (amortized commitments).
	Metric string `json:"metric,omitempty"`
	// Shared is how cost shows the shared namespaces' cost: spread (the
	// default, over the owners in proportion to their cost) or apart.
	Shared string `json:"shared,omitempty"`
	// Team, Project, Service and Currency narrow cost (with Namespace);
	// a team is its stable code.
	Team     string `json:"team,omitempty"`
	Project  string `json:"project,omitempty"`
	Service  string `json:"service,omitempty"`
	Currency string `json:"currency,omitempty"`
	// Values names what a values query lists: clusters, namespaces,
	// workloads, zones, classes, teams (from the ownership catalog),
	// cost_teams or services (from the allocated bill).
	Values string `json:"values,omitempty"`
	// AlertName narrows the alert history query types (with Namespace):
	// a name or a comma-separated list; All or empty for every one.
	AlertName string `json:"alertname,omitempty"`
	// Environment, Source and Within narrow the deploy query types (with
	// Project and Team): lists, All or empty for every one; Within is
	// change_failure_rate's window (24h). Actions lists the actions
	// deploy_annotations shows (deploy, rollback, restart, scale,
	// cronjob_trigger, prune; empty for all).
	Environment string `json:"environment,omitempty"`
	Source      string `json:"source,omitempty"`
	Within      string `json:"within,omitempty"`
	Actions     string `json:"actions,omitempty"`
	// AdHocFilters are the dashboard's ad hoc filters, as the frontend
	// passes them.
	AdHocFilters []AdHocFilter `json:"adHocFilters,omitempty"`
}

// AdHocFilter is one ad hoc filter: a column, an operator, a value.
type AdHocFilter struct {
	Key      string `json:"key"`
	Operator string `json:"operator"`
	Value    string `json:"value"`
}

// valueLists are the SQL behind a values query: what the daily rollup
// holds (small, and every report reads the rollups).
var valueLists = map[string]string{
	"clusters":   "SELECT DISTINCT c FROM (SELECT src_cluster AS c FROM flow_traffic_daily UNION ALL SELECT dst_cluster FROM flow_traffic_daily) WHERE c != '' ORDER BY c",
	"namespaces": "SELECT DISTINCT n FROM (SELECT src_namespace AS n FROM flow_traffic_daily UNION ALL SELECT dst_namespace FROM flow_traffic_daily) WHERE n != '' ORDER BY n",
	"workloads":  "SELECT DISTINCT w FROM (SELECT src_workload AS w FROM flow_traffic_daily UNION ALL SELECT dst_workload FROM flow_traffic_daily) WHERE w != '' ORDER BY w",
	"zones":      "SELECT DISTINCT z FROM (SELECT src_zone AS z FROM flow_traffic_daily UNION ALL SELECT dst_zone FROM flow_traffic_daily) WHERE z != '' ORDER BY z",
	"classes":    "SELECT DISTINCT traffic_class FROM flow_traffic_daily WHERE traffic_class != '' ORDER BY traffic_class",
	"teams":      "SELECT DISTINCT team FROM namespace_owners WHERE team != '' ORDER BY team",
	"cost_teams": "SELECT DISTINCT team FROM cost_daily WHERE team != '' ORDER BY team",
	"services":   "SELECT DISTINCT service_name FROM cost_daily WHERE service_name != '' ORDER BY service_name",
	// The alert history's namespaces ("(no namespace)" for the default
	// route's alerts) and alert names.
	"alert_namespaces": "SELECT DISTINCT if(namespace = '', '(no namespace)', namespace) AS n FROM alert_events ORDER BY n",
	"alertnames":       "SELECT DISTINCT alertname FROM alert_events WHERE alertname != '' ORDER BY alertname",
	// The deploy history's projects and environments.
	"deploy_projects":     "SELECT DISTINCT project FROM deploy_events WHERE project != '' ORDER BY project",
	"deploy_environments": "SELECT DISTINCT environment FROM deploy_events WHERE environment != '' ORDER BY environment",
}

// valueListNames are the values a values query takes, for messages.
func valueListNames() string {
	names := make([]string, 0, len(valueLists))
	for n := range valueLists {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// run answers one query.
func (d *Datasource) run(ctx context.Context, q backend.DataQuery, a attribution) backend.DataResponse {
	var m Query
	if len(q.JSON) > 0 {
		if err := json.Unmarshal(q.JSON, &m); err != nil {
			return backend.ErrDataResponseWithSource(backend.StatusBadRequest, backend.ErrorSourceDownstream, "the query model is not valid JSON: "+err.Error())
		}
	}
	if m.QueryType == "" {
		m.QueryType = q.QueryType
	}
	if m.QueryType == "" {
		m.QueryType = QueryTypeSQL
	}
	tr := TimeRange{From: q.TimeRange.From, To: q.TimeRange.To, Interval: q.Interval}
	var frames data.Frames
	var err error
	switch m.QueryType {
	case QueryTypeSQL:
		frames, err = d.runSQL(ctx, m, tr, q.RefID, a)
	case QueryTypeValues:
		sql, ok := valueLists[m.Values]
		if !ok {
			return badRequest(fmt.Sprintf("values %q: use one of %s", m.Values, valueListNames()))
		}
		frames, err = d.runSQL(ctx, Query{RawSQL: sql, Format: "table"}, tr, q.RefID, a)
	case QueryTypeTopTalkers, QueryTypeCostPerDay, QueryTypeBeforeAfter, QueryTypeZoneSkew:
		frames, err = d.runReport(ctx, m, tr, q.RefID)
	case QueryTypeChanges:
		frames, err = changesFrames(m, tr, q.RefID)
	case QueryTypeCost, QueryTypeCostNetwork, QueryTypeCostSummary, QueryTypeCostAnomalies:
		if m.QueryType == QueryTypeCost && m.Format == "time_series" && m.Granularity == "" {
			return badRequest("a cost time series needs a granularity: hour, day or month")
		}
		frames, err = d.runCost(ctx, m, tr, q.RefID)
	case QueryTypeAlerts, QueryTypeAlertAnnotations:
		frames, err = d.runAlerts(ctx, m, tr, q.RefID, a)
	case QueryTypeDeploys, QueryTypeDeployAnnotations:
		frames, err = d.runDeploys(ctx, m, tr, q.RefID, a)
	default:
		return badRequest(fmt.Sprintf("query type %q: use sql, top_talkers, cost_per_day, before_after, zone_skew, cost, cost_network, cost_summary, cost_anomalies, alerts, alert_annotations, deploys, deploy_annotations, values or changes", m.QueryType))
	}
	if err != nil {
		return errorResponse(err)
	}
	return backend.DataResponse{Frames: frames}
}

func badRequest(msg string) backend.DataResponse {
	return backend.ErrDataResponseWithSource(backend.StatusBadRequest, backend.ErrorSourceDownstream, msg)
}

// errorResponse marks furrow's refusals and the query's own mistakes as
// downstream errors (the user's or the server's, not the plugin's).
func errorResponse(err error) backend.DataResponse {
	status := backend.StatusInternal
	var he *httpError
	if asHTTPError(err, &he) {
		switch {
		case he.Status == 401:
			status = backend.StatusUnauthorized
		case he.Status == 403:
			status = backend.StatusForbidden
		case he.Status >= 400 && he.Status < 500:
			status = backend.StatusBadRequest
		case he.Status == 504:
			status = backend.StatusTimeout
		}
	}
	resp := backend.ErrDataResponse(status, err.Error())
	if backend.IsDownstreamError(err) {
		resp.ErrorSource = backend.ErrorSourceDownstream
	}
	return resp
}

func (d *Datasource) runSQL(ctx context.Context, m Query, tr TimeRange, refID string, a attribution) (data.Frames, error) {
	if strings.TrimSpace(m.RawSQL) == "" {
		return data.Frames{}, nil // a new panel: nothing to run yet
	}
	sql, err := Expand(m.RawSQL, tr)
	if err != nil {
		return nil, backend.DownstreamError(err)
	}
	filters, err := tableFilters(m.AdHocFilters)
	if err != nil {
		return nil, backend.DownstreamError(err)
	}
	frame, err := d.sqlFrame(ctx, refID, sql, a, filters)
	if err != nil {
		return nil, err
	}
	if m.Format == "time_series" {
		wide, err := toTimeSeries(frame)
		if err != nil {
			return nil, backend.DownstreamError(err)
		}
		wide.Meta = frame.Meta
		frame = wide
	}
	return data.Frames{frame}, nil
}

// reportQuery is the query string of a report request.
func reportQuery(m Query, tr TimeRange) url.Values {
	v := url.Values{}
	if !tr.From.IsZero() {
		v.Set("from", tr.From.UTC().Format(time.RFC3339))
	}
	if !tr.To.IsZero() {
		v.Set("to", tr.To.UTC().Format(time.RFC3339))
	}
	for k, s := range map[string]string{"cluster": m.Cluster, "namespace": m.Namespace, "workload": m.Workload, "by": m.By, "at": m.At, "window": m.Window} {
		if s = strings.TrimSpace(s); s != "" && s != allValue {
			v.Set(k, s)
		}
	}
	var classes []string
	for _, c := range m.Classes {
		if c = strings.TrimSpace(c); c != "" && c != allValue {
			classes = append(classes, c)
		}
	}
	if len(classes) > 0 {
		v.Set("class", strings.Join(classes, ","))
	}
	if m.Limit > 0 {
		v.Set("limit", strconv.Itoa(m.Limit))
	}
	return v
}

func (d *Datasource) runReport(ctx context.Context, m Query, tr TimeRange, refID string) (data.Frames, error) {
	for _, f := range m.AdHocFilters {
		// The reports filter by cluster, namespace and workload (either end).
		if f.Operator == "=" {
			switch f.Key {
			case "cluster", "src_cluster", "dst_cluster":
				m.Cluster = f.Value
			case "namespace", "src_namespace", "dst_namespace":
				m.Namespace = f.Value
			case "workload", "src_workload", "dst_workload":
				m.Workload = f.Value
			}
		}
	}
	v := reportQuery(m, tr)
	var frame *data.Frame
	var what string
	switch m.QueryType {
	case QueryTypeTopTalkers:
		var t traffic.Talkers
		if err := d.client.report(ctx, "top", v, &t); err != nil {
			return nil, err
		}
		frame = talkersFrame(refID, t)
		what = "top"
	case QueryTypeCostPerDay:
		var days traffic.DayCosts
		if err := d.client.report(ctx, "cost-per-day", v, &days); err != nil {
			return nil, err
		}
		frame = costFrame(refID, days)
		if m.Format != "table" {
			wide, err := toTimeSeries(frame)
			if err != nil {
				return nil, err
			}
			frame = wide
		}
		what = "cost-per-day"
	case QueryTypeBeforeAfter:
		if at := strings.TrimSpace(m.At); at == "" || at == allValue {
			// A dashboard whose change variable is empty: say what to do.
			f := data.NewFrame(refID)
			f.Meta = &data.FrameMeta{Notices: []data.Notice{{Severity: data.NoticeSeverityInfo,
				Text: "Set the time of the change (e.g. 2026-11-02) to compare the week before with the week after."}}}
			return data.Frames{f}, nil
		}
		var c traffic.Comparison
		if err := d.client.report(ctx, "before-after", v, &c); err != nil {
			return nil, err
		}
		frame = comparisonFrame(refID, c)
		what = "before-after"
	case QueryTypeZoneSkew:
		var s traffic.Skews
		if err := d.client.report(ctx, "zone-skew", v, &s); err != nil {
			return nil, err
		}
		frame = skewFrame(refID, s)
		what = "zone-skew"
	}
	if frame.Meta == nil {
		frame.Meta = &data.FrameMeta{}
	}
	frame.Meta.ExecutedQueryString = "GET /api/v1/traffic/" + what + "?" + v.Encode()
	return data.Frames{frame}, nil
}

func withUnit(f *data.Field, unit string) *data.Field {
	f.Config = &data.FieldConfig{Unit: unit}
	return f
}

func talkersFrame(name string, t traffic.Talkers) *data.Frame {
	n := len(t.Rows)
	src, dst := make([]string, n), make([]string, n)
	bytes, cost, share, records := make([]float64, n), make([]float64, n), make([]float64, n), make([]uint64, n)
	for i, r := range t.Rows {
		src[i], dst[i], bytes[i], cost[i], share[i], records[i] = r.Src, r.Dst, r.Bytes, r.CostUSD, r.Share, r.Records
	}
	return data.NewFrame(name,
		data.NewField("source", nil, src), data.NewField("destination", nil, dst),
		withUnit(data.NewField("bytes", nil, bytes), "bytes"), withUnit(data.NewField("cost", nil, cost), "currencyUSD"),
		withUnit(data.NewField("share", nil, share), "percentunit"), data.NewField("records", nil, records))
}

func costFrame(name string, days traffic.DayCosts) *data.Frame {
	n := len(days)
	at, class := make([]time.Time, n), make([]string, n)
	bytes, cost := make([]float64, n), make([]float64, n)
	for i, d := range days {
		t, _ := time.Parse(time.DateOnly, d.Day)
		at[i], class[i], bytes[i], cost[i] = t, d.Class, d.Bytes, d.CostUSD
	}
	return data.NewFrame(name, data.NewField("time", nil, at), data.NewField("class", nil, class),
		withUnit(data.NewField("cost", nil, cost), "currencyUSD"), withUnit(data.NewField("bytes", nil, bytes), "bytes"))
}

func comparisonFrame(name string, c traffic.Comparison) *data.Frame {
	sides := []traffic.Side{c.Before, c.After}
	label := []string{"before", "after"}
	from, to := make([]time.Time, 2), make([]time.Time, 2)
	perDay, share, costDay := make([]float64, 2), make([]float64, 2), make([]float64, 2)
	for i, s := range sides {
		from[i], to[i], perDay[i], share[i], costDay[i] = s.From, s.To, s.ClassBytesPerDay, s.ClassShare, s.CostPerDay
	}
	f := data.NewFrame(name, data.NewField("side", nil, label), data.NewField("from", nil, from), data.NewField("to", nil, to),
		withUnit(data.NewField("bytes per day", nil, perDay), "bytes"), withUnit(data.NewField("share", nil, share), "percentunit"),
		withUnit(data.NewField("cost per day", nil, costDay), "currencyUSD"))
	f.Meta = &data.FrameMeta{}
	if c.CostPerDay.Pct != nil {
		f.Meta.Notices = append(f.Meta.Notices, data.Notice{Severity: data.NoticeSeverityInfo,
			Text: fmt.Sprintf("cost per day %+.1f%% after %s", *c.CostPerDay.Pct, c.At.Format(time.DateTime))})
	}
	return f
}

func skewFrame(name string, s traffic.Skews) *data.Frame {
	n := len(s)
	cluster, ns, wl := make([]string, n), make([]string, n), make([]string, n)
	score, bytes := make([]float64, n), make([]float64, n)
	for i, w := range s {
		cluster[i], ns[i], wl[i], score[i], bytes[i] = w.Cluster, w.Namespace, w.Workload, w.Score, w.Bytes
	}
	return data.NewFrame(name, data.NewField("cluster", nil, cluster), data.NewField("namespace", nil, ns),
		data.NewField("workload", nil, wl), withUnit(data.NewField("skew", nil, score), "percentunit"),
		withUnit(data.NewField("bytes", nil, bytes), "bytes"))
}

// changesFrames are annotations at the change dates of m.At (a list of
// RFC3339 times or dates, comma-separated) within the time range.
func changesFrames(m Query, tr TimeRange, refID string) (data.Frames, error) {
	var times []time.Time
	var texts []string
	for _, part := range strings.Split(m.At, ",") {
		part = strings.TrimSpace(part)
		if part == "" || part == allValue {
			continue
		}
		t, err := traffic.ParseTime("at", part, false)
		if err != nil {
			return nil, backend.DownstreamError(err)
		}
		if (!tr.From.IsZero() && t.Before(tr.From)) || (!tr.To.IsZero() && t.After(tr.To)) {
			continue
		}
		times = append(times, t)
		texts = append(texts, "change "+t.Format(time.RFC3339))
	}
	f := data.NewFrame(refID, data.NewField("time", nil, times), data.NewField("title", nil, texts))
	return data.Frames{f}, nil
}

// adHocColumns are the columns the rollups have; flow_logs has them too,
// and more.
var adHocColumns = map[string]bool{
	"traffic_class": true, "src_cluster": true, "src_kind": true, "src_namespace": true, "src_workload_kind": true,
	"src_workload": true, "src_zone": true, "dst_cluster": true, "dst_kind": true, "dst_namespace": true,
	"dst_workload_kind": true, "dst_workload": true, "dst_zone": true,
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

// tableFilters turns ad hoc filters into ClickHouse's
// additional_table_filters for the flow tables, which furrow's ClickHouse
// interface checks and applies: the engine filters every read of them.
func tableFilters(fs []AdHocFilter) (string, error) {
	if len(fs) == 0 {
		return "", nil
	}
	var all, rollup []string
	for _, f := range fs {
		if !identifier.MatchString(f.Key) {
			return "", fmt.Errorf("ad hoc filter on %q: not a column name", f.Key)
		}
		var cond string
		v := chsql.QuoteString(f.Value)
		switch f.Operator {
		case "=", "!=", "<", ">", "<=", ">=":
			cond = f.Key + " " + f.Operator + " " + v
		case "=~":
			cond = "match(toString(" + f.Key + "), " + v + ")"
		case "!~":
			cond = "NOT match(toString(" + f.Key + "), " + v + ")"
		default:
			return "", fmt.Errorf("ad hoc filter operator %q: use =, !=, <, >, <=, >=, =~ or !~", f.Operator)
		}
		all = append(all, cond)
		if adHocColumns[f.Key] {
			rollup = append(rollup, cond)
		}
	}
	entries := []string{chsql.QuoteString("flow_logs") + ": " + chsql.QuoteString(strings.Join(all, " AND "))}
	if len(rollup) > 0 {
		c := chsql.QuoteString(strings.Join(rollup, " AND "))
		entries = append(entries, chsql.QuoteString("flow_traffic_hourly")+": "+c, chsql.QuoteString("flow_traffic_daily")+": "+c)
	}
	return "{" + strings.Join(entries, ", ") + "}", nil
}

// sqlFrame runs sql through the furrow server for the query refID and
// returns its result as a frame that shows the statement in Grafana's
// query inspector; tableFilters are ad hoc filters on its tables.
func (d *Datasource) sqlFrame(ctx context.Context, refID, sql string, a attribution, tableFilters ...string) (*data.Frame, error) {
	a.RefID = refID
	res, err := d.client.sql(ctx, sql, d.settings.RowLimit, a, tableFilters...)
	if err != nil {
		return nil, err
	}
	frame, err := frameFromResult(refID, res, d.settings.RowLimit)
	if err != nil {
		return nil, err
	}
	frame.Meta.ExecutedQueryString = sql
	return frame, nil
}
