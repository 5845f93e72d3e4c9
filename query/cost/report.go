package cost

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/furrowdev/furrow/store"
)

// ErrBadRequest wraps every error of a report's parameters.
var ErrBadRequest = errors.New("bad cost query")

type contextLike = context.Context

// Dimensions a breakdown groups by: the name users give → the column.
var dimensions = map[string]string{
	"team":            "team",
	"project":         "project",
	"namespace":       "namespace",
	"workload":        "workload",
	"cluster":         "cluster",
	"service":         "service_name",
	"account":         "sub_account_id",
	"billing_account": "billing_account_id",
	"region":          "region_id",
	"usage_type":      "usage_type",
	"category":        "charge_category",
	"rule":            "rule",
}

// Dimensions lists the names a breakdown accepts, for help texts.
func Dimensions() []string {
	return []string{"team", "project", "namespace", "workload", "cluster", "service", "account", "billing_account", "region", "usage_type", "category", "rule"}
}

// Query selects a breakdown of the allocated cost.
type Query struct {
	// From and To bound the charge period, [From, To); zero: open.
	From, To time.Time
	// By are the dimensions (Dimensions); none: the total per kind.
	By []string
	// Granularity is "hour", "day", "month" or "" (the whole range).
	Granularity string
	// Metric is "billed" (the default) or "effective" (amortized).
	Metric string
	// Shared is "spread" (the default: the shared namespaces' cost is
	// spread over the owners of the same cluster, hour or day, and
	// currency, in proportion to their cost) or "apart" (its own rows).
	Shared string
	// Team, Project, Namespace, Service and Currency filter; empty: all.
	Team, Project, Namespace, Service, Currency string
	// Limit bounds the rows (0: all), largest cost first within a time.
	Limit int
}

func (q *Query) check() error {
	for _, b := range q.By {
		if _, ok := dimensions[b]; !ok {
			return fmt.Errorf("%w: by %q is not one of %s", ErrBadRequest, b, strings.Join(Dimensions(), ", "))
		}
	}
	switch q.Granularity {
	case "", "hour", "day", "month":
	default:
		return fmt.Errorf("%w: granularity must be hour, day, month or empty, not %q", ErrBadRequest, q.Granularity)
	}
	switch q.Metric {
	case "":
		q.Metric = "billed"
	case "billed", "effective":
	default:
		return fmt.Errorf("%w: metric must be billed or effective, not %q", ErrBadRequest, q.Metric)
	}
	switch q.Shared {
	case "":
		q.Shared = "spread"
	case "spread", "apart":
	default:
		return fmt.Errorf("%w: shared must be spread or apart, not %q", ErrBadRequest, q.Shared)
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return fmt.Errorf("%w: from must be before to", ErrBadRequest)
	}
	if q.Limit < 0 {
		return fmt.Errorf("%w: limit must not be negative", ErrBadRequest)
	}
	for _, v := range []string{q.Team, q.Project, q.Namespace, q.Service, q.Currency} {
		if strings.ContainsRune(v, 0) {
			return fmt.Errorf("%w: a filter holds a NUL byte", ErrBadRequest)
		}
	}
	return nil
}

// Reports answers cost questions from the allocation in force.
type Reports struct {
	s   store.Store
	cfg Configuration
	now func() time.Time
}

// NewReports returns reports on s.
func NewReports(s store.Store, cfg Configuration) *Reports {
	return &Reports{s: s, cfg: cfg, now: time.Now}
}

// source is the table and time expression of a granularity: the hourly
// rows for hours or ranges that are not whole days, the daily rollup else.
func (q Query) source() (from, t, lo, hi string) {
	hourly := q.Granularity == "hour" || !wholeDay(q.From) || !wholeDay(q.To)
	if hourly {
		t = map[string]string{"hour": "toStartOfHour(charge_period_start)", "day": "toStartOfDay(charge_period_start)",
			"month": "toStartOfMonth(charge_period_start)", "": "toDateTime(0)"}[q.Granularity]
		return "cost_allocated", t, "charge_period_start >= {from:DateTime('UTC')}", "charge_period_start < {to:DateTime('UTC')}"
	}
	t = map[string]string{"day": "toDateTime(day, 'UTC')", "month": "toDateTime(toStartOfMonth(day), 'UTC')", "": "toDateTime(0)"}[q.Granularity]
	src := "cost_daily"
	if q.ownersOnly() {
		src = "cost_owner_daily"
	}
	return src, t, "day >= toDate({from:DateTime('UTC')})", "day < toDate({to:DateTime('UTC')})"
}

// ownersOnly tells whether the owners' daily rollup answers q: its
// dimensions and filters are owners (team, project, cluster).
func (q Query) ownersOnly() bool {
	for _, b := range q.By {
		if b != "team" && b != "project" && b != "cluster" {
			return false
		}
	}
	return q.Namespace == "" && q.Service == ""
}

func wholeDay(t time.Time) bool { return t.IsZero() || t.UTC().Truncate(24*time.Hour).Equal(t.UTC()) }

// where is the filter of q over a source table.
func (q Query) where(lo, hi string, p map[string]string) string {
	conds := []string{"1"}
	if !q.From.IsZero() {
		p["from"] = q.From.UTC().Format("2006-01-02 15:04:05")
		conds = append(conds, lo)
	}
	if !q.To.IsZero() {
		p["to"] = q.To.UTC().Format("2006-01-02 15:04:05")
		conds = append(conds, hi)
	}
	for _, f := range []struct{ name, col, v string }{
		{"team", "team", q.Team}, {"project", "project", q.Project}, {"namespace", "namespace", q.Namespace},
		{"service", "service_name", q.Service}, {"currency", "billing_currency", q.Currency},
	} {
		if f.v != "" {
			p[f.name] = f.v
			conds = append(conds, f.col+" = {"+f.name+":String}")
		}
	}
	return strings.Join(conds, " AND ")
}

// Breakdown is the allocated cost by q's dimensions and time, with its
// kind (allocated, idle, shared, unowned) and currency: for every time and
// currency the rows add up to the bill. A team is shown by its name from
// the catalog as it is now (team_name), next to its stable code.
func (r *Reports) Breakdown(ctx context.Context, q Query) (Table, error) {
	if err := q.check(); err != nil {
		return Table{}, err
	}
	src, t, lo, hi := q.source()
	p := map[string]string{}
	where := q.where(lo, hi, p)
	metric := q.Metric + "_cost"
	dims := make([]string, 0, len(q.By))
	for _, b := range q.By {
		dims = append(dims, dimensions[b])
	}
	// Shared cost is spread within (time, cluster, currency): the inner
	// grouping keeps the cluster whatever the dimensions.
	inner := append([]string{"t", "cluster", "kind", "billing_currency"}, without(dims, "cluster")...)
	outer := append([]string{"t"}, dims...)
	outer = append(outer, "kind", "billing_currency")
	spread := q.Shared == "spread"
	sql := `SELECT ` + strings.Join(outer, ", ") + `, sum(c) AS cost FROM (
  SELECT *, sumIf(c0, kind = 'allocated') OVER w AS alloc, sumIf(c0, kind = 'shared') OVER w AS shared,
    if(` + boolSQL(spread) + ` AND alloc != 0 AND kind = 'allocated', c0 + toDecimal128(shared * toDecimal128(c0 / alloc, 12), 12), c0) AS c
  FROM (SELECT ` + t + ` AS t, ` + strings.Join(inner[1:], ", ") + `, sum(` + metric + `) AS c0
        FROM ` + src + ` WHERE ` + where + ` GROUP BY ` + strings.Join(inner, ", ") + `)
  WINDOW w AS (PARTITION BY t, cluster, billing_currency))
WHERE NOT (` + boolSQL(spread) + ` AND kind = 'shared' AND alloc != 0)
GROUP BY ` + strings.Join(outer, ", ") + `
ORDER BY t, billing_currency, cost DESC`
	if q.Limit > 0 {
		sql += fmt.Sprintf("\nLIMIT %d BY t, billing_currency", q.Limit)
	}
	// Names are joined last, from the catalog as it is now.
	cols := []string{}
	if q.Granularity != "" {
		cols = append(cols, "formatDateTime(t, '"+map[string]string{"hour": "%Y-%m-%d %H:00", "day": "%Y-%m-%d", "month": "%Y-%m"}[q.Granularity]+"') AS "+q.Granularity)
	}
	for _, d := range q.By {
		if d == "team" {
			cols = append(cols, "b.team AS team", "if(b.team = '', concat('(', b.kind, ')'), if(tn.team_name != '', tn.team_name, b.team)) AS team_name")
			continue
		}
		cols = append(cols, "b."+dimensions[d]+" AS "+d)
	}
	cols = append(cols, "b.kind AS kind", "b.billing_currency AS currency", "toString(b.cost) AS cost")
	join := ""
	if slices.Contains(q.By, "team") {
		join = " LEFT JOIN teams AS tn ON tn.team = b.team"
	}
	full := `SELECT ` + strings.Join(cols, ", ") + ` FROM (` + sql + `) AS b` + join + ` ORDER BY b.t, b.billing_currency, b.cost DESC`
	return queryTable(ctx, r.s, "breakdown", "Cost by "+orDefault(strings.Join(q.By, ", "), "kind"), full, p, "cost")
}

func boolSQL(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func without(xs []string, x string) []string {
	out := make([]string, 0, len(xs))
	for _, v := range xs {
		if v != x {
			out = append(out, v)
		}
	}
	return out
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// Network reconciles the bill's data-transfer and NAT line items with what
// the traffic tables attribute, per day and class (USD): bill is the
// line items' cost, attributed what went to sending namespaces, and
// unexplained the rest; estimate is the traffic tables' own cost of the
// class (every sender, nodes included), for comparison.
func (r *Reports) Network(ctx context.Context, from, to time.Time) (Table, error) {
	q := Query{From: from, To: to, Granularity: "day"}
	if err := q.check(); err != nil {
		return Table{}, err
	}
	p := map[string]string{}
	where := q.where("day >= toDate({from:DateTime('UTC')})", "day < toDate({to:DateTime('UTC')})", p)
	twhere := "1"
	if !from.IsZero() {
		twhere += " AND hour >= {from:DateTime('UTC')}"
	}
	if !to.IsZero() {
		twhere += " AND hour < {to:DateTime('UTC')}"
	}
	sql := `SELECT toString(b.day) AS day, b.class AS class, toString(b.bill) AS bill, toString(b.attributed) AS attributed,
  toString(b.unexplained) AS unexplained, if(b.bill = b.attributed + b.unexplained, 'yes', 'no') AS adds_up,
  toString(round(e.estimate, 6)) AS estimate
FROM (
  SELECT day, ` + strings.ReplaceAll(netClassExpr, "x_usage_type", "usage_type") + ` AS class,
    sum(billed_cost) AS bill,
    sumIf(billed_cost, namespace != '') AS attributed, sumIf(billed_cost, namespace = '') AS unexplained
  FROM cost_daily WHERE rule = 'network' AND ` + where + ` GROUP BY day, class) AS b
LEFT JOIN (
  SELECT toDate(hour) AS day, traffic_class AS class, sum(cost_usd) AS estimate FROM flow_traffic_hourly
  WHERE ` + twhere + ` AND traffic_class IN ('cross-zone', 'nat-gateway', 'internet-egress', 'cross-region') GROUP BY day, class) AS e
ON e.day = b.day AND e.class = b.class
ORDER BY b.day, b.class`
	return queryTable(ctx, r.s, "network", "Network reconciliation", sql, p, "bill", "attributed", "unexplained", "estimate")
}

// Summary is, per team (its name now) and currency, the month to date
// (from the first of now's month to the start of today), the forecast to
// the month's end (the month to date plus the mean of the last 7 whole
// days times the days left), the previous month's total, and the change
// of the forecast against it. Shared cost is spread as in Breakdown, so
// the two agree.
func (r *Reports) Summary(ctx context.Context, now time.Time) (Table, error) {
	now = now.UTC()
	today := now.Truncate(24 * time.Hour)
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	prev, week := month.AddDate(0, -1, 0), today.AddDate(0, 0, -7)
	left := int64(month.AddDate(0, 1, 0).Sub(today).Hours() / 24)
	from := prev
	if week.Before(from) {
		from = week
	}
	days, err := r.Breakdown(ctx, Query{From: from, To: today, By: []string{"team"}, Granularity: "day"})
	if err != nil {
		return Table{}, err
	}
	type key struct{ team, name, currency string }
	type sums struct{ mtd, week, prev *big.Rat }
	acc := map[key]*sums{}
	var keys []key
	for _, row := range days.Rows {
		// day, team, team_name, kind, currency, cost
		day, err := time.Parse("2006-01-02", row[0])
		if err != nil {
			return Table{}, fmt.Errorf("summary: %w", err)
		}
		v, ok := new(big.Rat).SetString(row[5])
		if !ok {
			return Table{}, fmt.Errorf("summary: cost %q", row[5])
		}
		k := key{row[1], row[2], row[4]}
		if acc[k] == nil {
			acc[k] = &sums{new(big.Rat), new(big.Rat), new(big.Rat)}
			keys = append(keys, k)
		}
		if !day.Before(month) {
			acc[k].mtd.Add(acc[k].mtd, v)
		}
		if !day.Before(week) {
			acc[k].week.Add(acc[k].week, v)
		}
		if day.Before(month) && !day.Before(prev) {
			acc[k].prev.Add(acc[k].prev, v)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].currency != keys[j].currency {
			return keys[i].currency < keys[j].currency
		}
		return acc[keys[i]].mtd.Cmp(acc[keys[j]].mtd) > 0
	})
	t := Table{Key: "summary", Title: "Month to date and forecast",
		Columns: []string{"owner", "team", "currency", "month_to_date", "forecast", "previous_month", "change_pct"},
		Numeric: map[string]bool{"month_to_date": true, "forecast": true, "previous_month": true, "change_pct": true}}
	for _, k := range keys {
		s := acc[k]
		forecast := new(big.Rat).Mul(s.week, big.NewRat(left, 7))
		forecast.Add(forecast, s.mtd)
		change := ""
		if s.prev.Sign() > 0 {
			c := new(big.Rat).Quo(forecast, s.prev)
			c.Sub(c, big.NewRat(1, 1)).Mul(c, big.NewRat(100, 1))
			change = c.FloatString(1)
		}
		t.Rows = append(t.Rows, []string{k.name, k.team, k.currency, s.mtd.FloatString(12), forecast.FloatString(12), s.prev.FloatString(12), change})
	}
	return t, nil
}
