package datasource

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/furrowdev/furrow/internal/chsql"
)

// The alert history query types read alerting's ClickHouse history
// (migration 0015): alert_incidents, one row per firing episode, and
// alert_events. The plugin writes their SQL; the values of the filters are
// quoted, never pasted.
const (
	// QueryTypeAlerts counts episodes per time step or over the range:
	// metric fired (episodes that began), resolved (that ended), firing
	// (that were firing during the step), resolve_time (table: minutes
	// to resolve, p50 and p90); by namespace, alertname, both or none.
	QueryTypeAlerts = "alerts"
	// QueryTypeAlertAnnotations are the episodes as annotations, from
	// fired to resolved (or to the end of the range while still firing).
	QueryTypeAlertAnnotations = "alert_annotations"
)

// noNamespace is how a panel shows an alert without a namespace (the
// default route's), and how a filter selects those.
const noNamespace = "(no namespace)"

// maxAlertSteps bounds the steps of a firing series: past it the step
// grows.
const maxAlertSteps = 2000

// alertStep is the time step of an alerts series: hour or day from
// granularity, else Grafana's interval (at least a minute), widened to keep
// within maxAlertSteps.
func alertStep(m Query, tr TimeRange) (int64, error) {
	var step int64
	switch m.Granularity {
	case "hour":
		step = 3600
	case "day":
		step = 86400
	case "":
		step = max(intervalSeconds(tr), 60)
	default:
		return 0, fmt.Errorf("granularity %q: use hour, day or none (Grafana's interval)", m.Granularity)
	}
	if span := int64(tr.To.Sub(tr.From).Seconds()); span/step > maxAlertSteps {
		step = (span + maxAlertSteps - 1) / maxAlertSteps
	}
	return step, nil
}

// alertGroupBy is the grouping of an alerts query, as columns.
func alertGroupBy(by string, table bool) ([]string, error) {
	var out []string
	for _, d := range strings.Split(by, ",") {
		switch d = strings.TrimSpace(d); d {
		case "", allValue, "none":
		case "namespace", "alertname":
			out = append(out, d)
		default:
			return nil, fmt.Errorf("by %q: use namespace, alertname, both (namespace,alertname) or none", d)
		}
	}
	if len(out) == 0 && table {
		out = []string{"namespace", "alertname"} // a table of nothing but totals says little
	}
	return out, nil
}

// alertColumn is a grouping column's expression: the namespace shows as
// "(no namespace)" when the alert had none.
func alertColumn(col string) string {
	if col == "namespace" {
		return "if(namespace = '', " + chsql.QuoteString(noNamespace) + ", namespace) AS namespace"
	}
	return col
}

// alertFilter is the WHERE condition of the namespace and alertname
// filters: a value or a comma-separated list (Grafana's multi-value), All
// or empty for everything.
func alertFilter(m Query) string {
	var conds []string
	for _, f := range []struct{ col, value string }{{"namespace", m.Namespace}, {"alertname", m.AlertName}} {
		var vals []string
		for _, v := range strings.Split(f.value, ",") {
			v = strings.TrimSpace(v)
			if v == "" || v == allValue {
				if v == allValue {
					vals = nil
					break
				}
				continue
			}
			if f.col == "namespace" && v == noNamespace {
				v = ""
			}
			vals = append(vals, v)
		}
		if len(vals) > 0 {
			quoted := make([]string, len(vals))
			for i, v := range vals {
				quoted[i] = chsql.QuoteString(v)
			}
			conds = append(conds, f.col+" IN ("+strings.Join(quoted, ", ")+")")
		}
	}
	if len(conds) == 0 {
		return "1"
	}
	return strings.Join(conds, " AND ")
}

// chTime is t as a ClickHouse DateTime64(3, 'UTC') literal.
func chTime(t time.Time) string {
	return "toDateTime64(" + chsql.QuoteString(t.UTC().Format("2006-01-02 15:04:05.000")) + ", 3, 'UTC')"
}

// alertsSQL is the SQL of an alerts query.
func alertsSQL(m Query, tr TimeRange) (string, error) {
	table := m.Format == "table"
	by, err := alertGroupBy(m.By, table)
	if err != nil {
		return "", err
	}
	if tr.From.IsZero() || tr.To.IsZero() || !tr.To.After(tr.From) {
		return "", fmt.Errorf("an alerts query needs a time range")
	}
	from, to := chTime(tr.From), chTime(tr.To)
	// The filters apply in a subquery: outside it, namespace is the
	// displayed value ("(no namespace)" for ''), an alias of the column.
	incidents := "(SELECT * FROM alert_incidents WHERE " + alertFilter(m) + ")"
	cols := make([]string, len(by))
	for i, c := range by {
		cols[i] = alertColumn(c)
	}
	group := strings.Join(by, ", ")
	metric := m.Metric
	if metric == "" {
		metric = "fired"
	}
	limit := ""
	if m.Limit > 0 {
		limit = " LIMIT " + strconv.Itoa(m.Limit)
	}
	if table {
		sel := strings.Join(cols, ", ")
		if sel != "" {
			sel += ", "
		}
		switch metric {
		case "fired", "resolved", "firing":
			// Episodes that were firing at some point of the range.
			return fmt.Sprintf(`SELECT %scount() AS incidents, sum(fire_count) AS fires, countIf(fired_at >= %s) AS fired, countIf(resolved_at >= %s AND resolved_at < %s) AS resolved, countIf(resolved_at IS NULL OR resolved_at >= %s) AS firing_at_end
FROM %s WHERE fired_at < %s AND (resolved_at IS NULL OR resolved_at >= %s)
GROUP BY %s ORDER BY %s DESC, incidents DESC, fires DESC%s`,
				sel, from, from, to, to, incidents, to, from, group, metric, limit), nil
		case "resolve_time":
			return fmt.Sprintf(`SELECT %scount() AS resolved, round(quantile(0.5)(duration_seconds) / 60, 1) AS p50_minutes, round(quantile(0.9)(duration_seconds) / 60, 1) AS p90_minutes, round(max(duration_seconds) / 60, 1) AS max_minutes
FROM %s WHERE resolved_at >= %s AND resolved_at < %s AND duration_seconds IS NOT NULL
GROUP BY %s ORDER BY p90_minutes DESC%s`, sel, incidents, from, to, group, limit), nil
		}
		return "", fmt.Errorf("metric %q: use fired, resolved, firing or resolve_time", m.Metric)
	}
	step, err := alertStep(m, tr)
	if err != nil {
		return "", err
	}
	sel, groupBy := "", "time"
	if len(by) > 0 {
		sel, groupBy = ", "+strings.Join(cols, ", "), "time, "+group
	}
	bucket := func(col string) string {
		return fmt.Sprintf("toStartOfInterval(%s, INTERVAL %d second, 'UTC')", col, step)
	}
	switch metric {
	case "fired":
		return fmt.Sprintf(`SELECT %s AS time%s, count() AS fired FROM %s
WHERE fired_at >= %s AND fired_at < %s GROUP BY %s ORDER BY time`, bucket("assumeNotNull(fired_at)"), sel, incidents, from, to, groupBy), nil
	case "resolved":
		return fmt.Sprintf(`SELECT %s AS time%s, count() AS resolved FROM %s
WHERE resolved_at >= %s AND resolved_at < %s GROUP BY %s ORDER BY time`, bucket("assumeNotNull(resolved_at)"), sel, incidents, from, to, groupBy), nil
	case "firing":
		// Each episode counts in every step it was firing in: it began
		// before the step's end and had not resolved by its start.
		start := bucket(from)
		n := (int64(tr.To.Sub(tr.From).Seconds()) + step - 1) / step
		return fmt.Sprintf(`SELECT time%s, count() AS firing FROM %s
ARRAY JOIN arrayFilter(t -> t < %s AND fired_at < t + INTERVAL %d second AND (resolved_at IS NULL OR resolved_at > t),
    arrayMap(i -> %s + toIntervalSecond(i * %d), range(%d))) AS time
WHERE fired_at IS NOT NULL AND fired_at < %s AND (resolved_at IS NULL OR resolved_at >= %s)
GROUP BY %s ORDER BY time`, sel, incidents, to, step, start, step, n+1, to, from, groupBy), nil
	}
	return "", fmt.Errorf("metric %q: use fired, resolved or firing (resolve_time is a table)", m.Metric)
}

// alertAnnotationsSQL is the SQL of alert_annotations: an episode from
// fired to resolved, or to the range's end while it fires.
func alertAnnotationsSQL(m Query, tr TimeRange) (string, error) {
	if tr.From.IsZero() || tr.To.IsZero() || !tr.To.After(tr.From) {
		return "", fmt.Errorf("alert annotations need a time range")
	}
	from, to := chTime(tr.From), chTime(tr.To)
	limit := 1000
	if m.Limit > 0 {
		limit = m.Limit
	}
	ns := "if(namespace = '', " + chsql.QuoteString(noNamespace) + ", namespace)"
	return fmt.Sprintf(`SELECT assumeNotNull(fired_at) AS time, coalesce(resolved_at, %s) AS timeEnd,
    concat(if(resolved_at IS NULL, '🔥 ', '✅ '), %s, ' · ', alertname) AS title,
    concat(source, ': fired ', toString(fire_count), ' time(s), ',
        if(resolved_at IS NULL, 'still firing', concat('resolved after ', toString(round(duration_seconds / 60, 1)), ' min'))) AS text,
    concat(%s, ',', alertname, ',', if(resolved_at IS NULL, 'firing', 'resolved')) AS tags
FROM (SELECT * FROM alert_incidents WHERE %s)
WHERE fired_at IS NOT NULL AND fired_at < %s AND (resolved_at IS NULL OR resolved_at >= %s)
ORDER BY time LIMIT %d`, to, ns, ns, alertFilter(m), to, from, limit), nil
}

// runAlerts answers the alert history query types with the SQL they
// stand for, through furrow's SQL interface.
func (d *Datasource) runAlerts(ctx context.Context, m Query, tr TimeRange, refID string, a attribution) (data.Frames, error) {
	for _, f := range m.AdHocFilters {
		if f.Operator != "=" {
			continue
		}
		switch f.Key {
		case "namespace":
			m.Namespace = f.Value
		case "alertname":
			m.AlertName = f.Value
		}
	}
	var sql string
	var err error
	if m.QueryType == QueryTypeAlertAnnotations || m.Format == "annotations" {
		sql, err = alertAnnotationsSQL(m, tr)
	} else {
		sql, err = alertsSQL(m, tr)
	}
	if err != nil {
		return nil, backend.DownstreamError(err)
	}
	frame, err := d.sqlFrame(ctx, refID, sql, a)
	if err != nil {
		return nil, err
	}
	if m.Format == "time_series" && m.QueryType == QueryTypeAlerts {
		wide, err := toTimeSeries(frame)
		if err != nil {
			return nil, backend.DownstreamError(err)
		}
		wide.Meta = frame.Meta
		frame = wide
	}
	return data.Frames{frame}, nil
}
