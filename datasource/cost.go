package datasource

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// costRoutes are the cost query types' routes under /api/v1/cost/ and the
// key of their table in furrow's JSON.
var costRoutes = map[string]struct{ route, key string }{
	QueryTypeCost:          {"breakdown", "breakdown"},
	QueryTypeCostNetwork:   {"network", "network"},
	QueryTypeCostSummary:   {"summary", "summary"},
	QueryTypeCostAnomalies: {"anomalies", "anomalies"},
}

// The columns of each cost table in the order a panel shows them (furrow's
// JSON rows are objects, whose keys carry no order); columns furrow adds
// later come after these, by name.
var (
	networkColumns    = []string{"day", "class", "bill", "attributed", "unexplained", "adds_up", "estimate"}
	summaryColumns    = []string{"owner", "team", "currency", "month_to_date", "forecast", "previous_month", "change_pct"}
	anomalyColumns    = []string{"day", "team", "team_name", "project", "service", "rule", "currency", "cost", "baseline", "increase", "score"}
	moneyColumns      = map[string]bool{"cost": true, "bill": true, "attributed": true, "unexplained": true, "estimate": true, "month_to_date": true, "forecast": true, "previous_month": true, "baseline": true, "increase": true}
	otherCostUnits    = map[string]string{"change_pct": "percent"}
	costTimeLayouts   = map[string]string{"hour": "2006-01-02 15:04", "day": time.DateOnly, "month": "2006-01"}
	grafanaCurrencies = map[string]bool{"USD": true, "GBP": true, "EUR": true, "JPY": true, "RUB": true, "UAH": true, "BRL": true, "DKK": true,
		"ISK": true, "NOK": true, "SEK": true, "CZK": true, "CHF": true, "PLN": true, "BTC": true, "ZAR": true, "INR": true, "KRW": true,
		"IDR": true, "PHP": true, "VND": true, "TRY": true, "MYR": true, "XPF": true, "BGN": true, "PYG": true, "UYU": true, "ILS": true}
)

// costDimensions are the dimensions of a cost query's by, in order.
func costDimensions(by string) []string {
	var out []string
	for _, d := range strings.Split(by, ",") {
		if d = strings.TrimSpace(d); d != "" && d != allValue {
			out = append(out, d)
		}
	}
	return out
}

// costQuery is the query string of a cost report request: the time range
// (widened to whole UTC days for daily and monthly steps; for the summary,
// its end: the month to date as of then), and the breakdown's choices and
// filters.
func costQuery(m Query, tr TimeRange) url.Values {
	v := url.Values{}
	if m.QueryType == QueryTypeCostSummary {
		if !tr.To.IsZero() {
			v.Set("at", tr.To.UTC().Format(time.RFC3339))
		}
		return v
	}
	from, to := tr.From.UTC(), tr.To.UTC()
	if m.QueryType == QueryTypeCost && (m.Granularity == "day" || m.Granularity == "month") {
		// Steps of whole days cover whole UTC days, first and last ones
		// included, and furrow reads its daily rollup for them.
		from = from.Truncate(24 * time.Hour)
		if day := to.Truncate(24 * time.Hour); !day.Equal(to) {
			to = day.Add(24 * time.Hour)
		}
	}
	if !tr.From.IsZero() {
		v.Set("from", from.Format(time.RFC3339))
	}
	if !tr.To.IsZero() {
		v.Set("to", to.Format(time.RFC3339))
	}
	if m.QueryType != QueryTypeCost {
		return v
	}
	if by := costDimensions(m.By); len(by) > 0 {
		v.Set("by", strings.Join(by, ","))
	}
	for k, s := range map[string]string{"granularity": m.Granularity, "metric": m.Metric, "shared": m.Shared, "team": m.Team,
		"project": m.Project, "namespace": m.Namespace, "service": m.Service, "currency": m.Currency} {
		if s = strings.TrimSpace(s); s != "" && s != allValue {
			v.Set(k, s)
		}
	}
	if m.Limit > 0 {
		v.Set("limit", strconv.Itoa(m.Limit))
	}
	return v
}

// runCost answers the cost query types from furrow's cost API.
func (d *Datasource) runCost(ctx context.Context, m Query, tr TimeRange, refID string) (data.Frames, error) {
	for _, f := range m.AdHocFilters {
		if f.Operator != "=" {
			continue
		}
		switch f.Key {
		case "team":
			m.Team = f.Value
		case "project":
			m.Project = f.Value
		case "namespace":
			m.Namespace = f.Value
		case "service":
			m.Service = f.Value
		case "currency":
			m.Currency = f.Value
		}
	}
	r := costRoutes[m.QueryType]
	v := costQuery(m, tr)
	rows, err := d.client.cost(ctx, r.route, v, r.key)
	if err != nil {
		return nil, err
	}
	var frame *data.Frame
	switch m.QueryType {
	case QueryTypeCost:
		frame, err = breakdownFrame(refID, m, rows)
	case QueryTypeCostNetwork:
		frame, err = costTableFrame(refID, rows, networkColumns)
	case QueryTypeCostSummary:
		frame, err = costTableFrame(refID, rows, summaryColumns)
	case QueryTypeCostAnomalies:
		frame, err = anomaliesFrame(refID, m.Format, rows)
	}
	if err != nil {
		return nil, err
	}
	frame.Meta.ExecutedQueryString = "GET /api/v1/cost/" + r.route + "?" + v.Encode()
	return data.Frames{frame}, nil
}

// cell is a row's value of col as text ("" when absent).
func cell(row map[string]any, col string) string {
	switch v := row[col].(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return v.String()
	default:
		return fmt.Sprint(v)
	}
}

// costColumns are the preferred columns present in rows (all of them
// when there are no rows: the frame keeps its shape), then any others.
func costColumns(rows costRows, preferred []string) []string {
	if len(rows) == 0 {
		return preferred
	}
	seen := map[string]bool{}
	for _, r := range rows {
		for k := range r {
			seen[k] = true
		}
	}
	var out []string
	for _, c := range preferred {
		if seen[c] {
			out = append(out, c)
			delete(seen, c)
		}
	}
	rest := make([]string, 0, len(seen))
	for c := range seen {
		rest = append(rest, c)
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// currencyUnit is Grafana's unit of an ISO 4217 code: its own currency
// unit where Grafana has one, the code as a suffix else.
func currencyUnit(code string) string {
	switch {
	case code == "":
		return "currencyUSD"
	case grafanaCurrencies[code]:
		return "currency" + code
	}
	return "suffix: " + code
}

// moneyUnit is the unit of rows' money columns: the currency's when every
// row has the same, USD when the table has no currency (the network
// reconciliation is in USD), none when currencies are mixed (mixed true).
func moneyUnit(rows costRows) (unit string, mixed bool) {
	codes := map[string]bool{}
	for _, r := range rows {
		if _, ok := r["currency"]; ok {
			codes[cell(r, "currency")] = true
		}
	}
	switch len(codes) {
	case 0:
		return "currencyUSD", false
	case 1:
		for c := range codes {
			return currencyUnit(c), false
		}
	}
	return "", true
}

// costTableFrame is a cost table as a frame: hour, day and month columns
// as times, columns of numbers (money as furrow's exact decimal text) as
// numbers with their unit, the rest as strings.
func costTableFrame(name string, rows costRows, preferred []string) (*data.Frame, error) {
	unit, mixed := moneyUnit(rows)
	frame := data.NewFrame(name)
	frame.Meta = &data.FrameMeta{}
	for _, col := range costColumns(rows, preferred) {
		field, err := costField(col, rows)
		if err != nil {
			return nil, err
		}
		switch {
		case moneyColumns[col]:
			field.Config = &data.FieldConfig{Unit: unit}
		case otherCostUnits[col] != "":
			field.Config = &data.FieldConfig{Unit: otherCostUnits[col]}
		}
		frame.Fields = append(frame.Fields, field)
	}
	if mixed {
		frame.Meta.Notices = append(frame.Meta.Notices, data.Notice{Severity: data.NoticeSeverityInfo,
			Text: "The rows are in several currencies: amounts carry no unit. Filter by currency to see one."})
	}
	return frame, nil
}

// costField is one column of rows as a field.
func costField(col string, rows costRows) (*data.Field, error) {
	if layout, ok := costTimeLayouts[col]; ok {
		vals := make([]time.Time, len(rows))
		for i, r := range rows {
			t, err := time.Parse(layout, cell(r, col))
			if err != nil {
				return nil, fmt.Errorf("furrow's cost row %d: %s %q is not a time", i+1, col, cell(r, col))
			}
			vals[i] = t
		}
		return data.NewField(col, nil, vals), nil
	}
	numeric, nulls := len(rows) > 0 || moneyColumns[col], false
	for _, r := range rows {
		switch v := r[col].(type) {
		case json.Number:
		case string:
			if v != "" {
				numeric = false
			}
			nulls = true
		case nil:
			nulls = true
		default:
			numeric = false
		}
	}
	if !numeric {
		vals := make([]string, len(rows))
		for i, r := range rows {
			vals[i] = cell(r, col)
		}
		return data.NewField(col, nil, vals), nil
	}
	vals := make([]*float64, len(rows))
	for i, r := range rows {
		n, ok := r[col].(json.Number)
		if !ok {
			continue
		}
		f, err := n.Float64()
		if err != nil {
			return nil, fmt.Errorf("furrow's cost row %d: %s %q is not a number", i+1, col, n)
		}
		vals[i] = &f
	}
	field := data.NewField(col, nil, vals)
	if !nulls {
		field = nonNullable(field)
	}
	return field, nil
}

// breakdownFrame is the allocated cost by m's dimensions: a table (time
// first when granular; team gives team and team_name), or with format
// time_series a wide frame with one cost series per dimensions and kind
// (and currency, when there are several), named after them.
func breakdownFrame(name string, m Query, rows costRows) (*data.Frame, error) {
	dims := costDimensions(m.By)
	var cols []string
	if m.Granularity != "" {
		cols = append(cols, m.Granularity)
	}
	for _, d := range dims {
		cols = append(cols, d)
		if d == "team" {
			cols = append(cols, "team_name")
		}
	}
	cols = append(cols, "kind", "currency", "cost")
	table, err := costTableFrame(name, rows, cols)
	if err != nil || m.Format != "time_series" || len(rows) == 0 {
		return table, err
	}
	unit, mixed := moneyUnit(rows)
	long := data.NewFrame(name)
	for _, f := range table.Fields {
		if f.Name == "currency" && !mixed {
			continue // one currency: the unit says it
		}
		if f.Name == "cost" {
			f = nonNullable(f)
		}
		long.Fields = append(long.Fields, f)
	}
	sorted, err := sortByTime(long)
	if err != nil {
		return nil, err
	}
	// A series with no cost at a time costs nothing then: zeros stack.
	wide, err := data.LongToWide(sorted, &data.FillMissing{Mode: data.FillModeValue, Value: 0})
	if err != nil {
		return nil, fmt.Errorf("cost as time series: %w", err)
	}
	for _, f := range wide.Fields {
		if f.Name != "cost" {
			continue
		}
		u := unit
		if mixed {
			u = currencyUnit(f.Labels["currency"])
		}
		f.Config = &data.FieldConfig{Unit: u, DisplayNameFromDS: seriesName(dims, f.Labels, mixed)}
	}
	wide.Meta = table.Meta
	return wide, nil
}

// seriesName names a cost series: its dimensions' values (a team by its
// name), then its kind unless allocated, then its currency when mixed.
func seriesName(dims []string, labels data.Labels, mixed bool) string {
	var parts []string
	for _, d := range dims {
		v := labels[d]
		if d == "team" && labels["team_name"] != "" {
			v = labels["team_name"]
		}
		if v != "" {
			parts = append(parts, v)
		}
	}
	name := strings.Join(parts, " / ")
	if name == "" && labels["kind"] == "allocated" {
		name = "allocated"
	}
	if k := labels["kind"]; k != "" && k != "allocated" && !strings.Contains(name, "("+k+")") {
		name = strings.TrimSpace(name + " (" + k + ")")
	}
	if mixed {
		name += " " + labels["currency"]
	}
	return strings.TrimSpace(name)
}

// anomaliesFrame is furrow's unintended increases: with format table the
// table, else annotations (time and timeEnd spanning the day, title
// "team/project service +increase", text with the cost, baseline and
// score) followed by the table's columns.
func anomaliesFrame(name, format string, rows costRows) (*data.Frame, error) {
	table, err := costTableFrame(name, rows, anomalyColumns)
	if err != nil || format == "table" {
		return table, err
	}
	n := len(rows)
	start, end := make([]time.Time, n), make([]time.Time, n)
	titles, texts := make([]string, n), make([]string, n)
	for i, r := range rows {
		day, err := time.Parse(time.DateOnly, cell(r, "day"))
		if err != nil {
			return nil, fmt.Errorf("furrow's cost anomaly %d: day %q is not a date", i+1, cell(r, "day"))
		}
		start[i], end[i] = day, day.Add(24*time.Hour)
		titles[i], texts[i] = anomalyText(r)
	}
	f := data.NewFrame(name, data.NewField("time", nil, start), data.NewField("timeEnd", nil, end),
		data.NewField("title", nil, titles), data.NewField("text", nil, texts))
	for _, field := range table.Fields {
		if field.Name != "day" {
			f.Fields = append(f.Fields, field)
		}
	}
	f.Meta = table.Meta
	return f, nil
}

// anomalyText is an anomaly's annotation title and text.
func anomalyText(r map[string]any) (title, text string) {
	owner := cell(r, "team_name")
	if owner == "" {
		owner = cell(r, "team")
	}
	if p := cell(r, "project"); p != "" {
		owner += "/" + p
	}
	cur := cell(r, "currency")
	title = fmt.Sprintf("%s %s +%s %s", owner, cell(r, "service"), amount(cell(r, "increase")), cur)
	text = fmt.Sprintf("%s cost %s %s on %s against a baseline of %s %s (robust score %s)",
		cell(r, "service"), amount(cell(r, "cost")), cur, cell(r, "day"), amount(cell(r, "baseline")), cur, cell(r, "score"))
	if rule := cell(r, "rule"); rule != "" && rule != "none" { // none: unowned
		text += "; reached its owner by the " + rule + " rule"
	}
	return title, text
}

// amount shows a decimal with two fractional digits (the text as is when
// it is not a number).
func amount(s string) string {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	return strconv.FormatFloat(f, 'f', 2, 64)
}
