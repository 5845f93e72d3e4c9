package cost

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/furrowdev/furrow/internal/chsql"
	"github.com/furrowdev/furrow/store"
)

// Finding is an unintended increase: a day's cost of an owner and service
// above its trailing baseline.
type Finding struct {
	Day      time.Time
	Team     string
	Project  string
	Service  string
	Rule     string // how the cost reached the owner (allocate.go)
	Currency string
	Cost     float64
	Baseline float64 // the median of the baseline days
	MAD      float64
	Score    float64 // robust z-score: (cost - baseline) / (1.4826 MAD)
}

// series is one owner and service's daily cost.
type seriesKey struct{ team, project, service, rule, currency string }

// Detect judges the cfg.Anomalies.Days whole days before now of every
// owner (team and project; unowned, idle and shared cost under its kind),
// service and allocation rule against its baseline, and replaces the
// stored findings of those days with what it finds. The rule is part of a
// series: a team's share of the nodes and its tagged volumes are both EC2,
// and a cluster's first days of pod data must not read as an increase of
// the team's volumes.
func (r *Reports) Detect(ctx context.Context, now time.Time) ([]Finding, error) {
	ac := r.cfg.Anomalies
	today := now.UTC().Truncate(24 * time.Hour)
	first := today.AddDate(0, 0, -ac.Days)
	lookback := max(ac.BaselineDays, 7*ac.BaselineWeeks)
	var b bytes.Buffer
	err := r.s.Query(ctx, &b, `SELECT toString(day), if(team = '' AND project = '', concat('(', kind, ')'), team), project, service_name, rule, billing_currency, toString(sum(billed_cost))
FROM cost_daily WHERE day >= {lo:Date} AND day < {hi:Date}
GROUP BY ALL`, "TSV", store.WithParams(map[string]string{
		"lo": first.AddDate(0, 0, -lookback).Format("2006-01-02"), "hi": today.Format("2006-01-02")}))
	if err != nil {
		return nil, fmt.Errorf("cost anomalies: %w", err)
	}
	data := map[seriesKey]map[time.Time]float64{}
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 7 {
			continue
		}
		day, err := time.Parse("2006-01-02", f[0])
		if err != nil {
			return nil, fmt.Errorf("cost anomalies: %w", err)
		}
		v, err := strconv.ParseFloat(f[6], 64)
		if err != nil {
			return nil, fmt.Errorf("cost anomalies: %w", err)
		}
		k := seriesKey{f[1], f[2], f[3], f[4], f[5]}
		if data[k] == nil {
			data[k] = map[time.Time]float64{}
		}
		data[k][day] = v
	}
	var out []Finding
	for k, days := range data {
		for d := first; d.Before(today); d = d.AddDate(0, 0, 1) {
			if f, ok := judge(ac, days, d); ok {
				f.Team, f.Project, f.Service, f.Rule, f.Currency = k.team, k.project, k.service, k.rule, k.currency
				out = append(out, f)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Day.Equal(out[j].Day) {
			return out[i].Day.Before(out[j].Day)
		}
		return out[i].Score > out[j].Score
	})
	if err := r.store(ctx, first, today, out, now); err != nil {
		return nil, err
	}
	return out, nil
}

// judge compares the cost of day d with its baseline: the same weekdays of
// the last weeks when at least 3 of them had cost (weekday-aware), else the
// trailing days; a day without cost counts as 0.
func judge(ac AnomalyConfiguration, days map[time.Time]float64, d time.Time) (Finding, bool) {
	cost := days[d]
	if cost <= 0 {
		return Finding{}, false
	}
	history := 0
	for i := 1; i <= ac.BaselineDays; i++ {
		if days[d.AddDate(0, 0, -i)] != 0 {
			history++
		}
	}
	if history < ac.MinHistoryDays {
		return Finding{}, false
	}
	var base []float64
	if ac.WeekdayAware {
		n := 0
		for w := 1; w <= ac.BaselineWeeks; w++ {
			v := days[d.AddDate(0, 0, -7*w)]
			base = append(base, v)
			if v > 0 {
				n++
			}
		}
		if n < 3 {
			base = nil
		}
	}
	if base == nil {
		for i := 1; i <= ac.BaselineDays; i++ {
			base = append(base, days[d.AddDate(0, 0, -i)])
		}
	}
	med := median(base)
	dev := make([]float64, len(base))
	for i, v := range base {
		dev[i] = math.Abs(v - med)
	}
	mad := median(dev)
	inc := cost - med
	// A flat history (MAD 0) would make any increase infinitely
	// unusual: the deviation is at least 1% of the baseline (and a cent).
	sd := math.Max(1.4826*mad, math.Max(0.01*math.Abs(med), 0.01))
	score := inc / sd
	if score < ac.MinScore || inc < ac.MinIncrease || (med > 0 && inc/med < ac.MinRatio) {
		return Finding{}, false
	}
	return Finding{Day: d, Cost: cost, Baseline: med, MAD: mad, Score: score}, true
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// store replaces the findings of [from, to) with found.
func (r *Reports) store(ctx context.Context, from, to time.Time, found []Finding, now time.Time) error {
	err := r.s.Exec(ctx, "DELETE FROM cost_anomalies WHERE day >= {lo:Date} AND day < {hi:Date}",
		store.WithParams(map[string]string{"lo": from.Format("2006-01-02"), "hi": to.Format("2006-01-02")}))
	if err != nil {
		return fmt.Errorf("cost anomalies: %w", err)
	}
	if len(found) == 0 {
		return nil
	}
	rows := make([]string, 0, len(found))
	num := func(v float64) string { return chsql.QuoteString(strconv.FormatFloat(v, 'f', 12, 64)) }
	for _, f := range found {
		rows = append(rows, "("+strings.Join([]string{
			chsql.QuoteString(f.Day.Format("2006-01-02")), chsql.QuoteString(f.Team), chsql.QuoteString(f.Project),
			chsql.QuoteString(f.Service), chsql.QuoteString(f.Rule), chsql.QuoteString(f.Currency), num(f.Cost), num(f.Baseline),
			strconv.FormatFloat(f.MAD, 'g', -1, 64), strconv.FormatFloat(f.Score, 'g', -1, 64), num(f.Cost - f.Baseline),
			chsql.QuoteString(now.UTC().Format("2006-01-02 15:04:05.000")),
		}, ", ")+")")
	}
	err = r.s.Exec(ctx, `INSERT INTO cost_anomalies (day, team, project, service_name, rule, billing_currency, cost, baseline, mad, score, increase, detected_at)
SELECT * FROM values('day Date, team String, project String, service_name String, rule String, billing_currency String, cost Decimal(38, 12),
  baseline Decimal(38, 12), mad Float64, score Float64, increase Decimal(38, 12), detected_at DateTime64(3, \'UTC\')', `+strings.Join(rows, ", ")+`)`,
		// A detection finding what the last one found (same day, same
		// clock) is still a new version: the delete above removed it.
		store.WithSettings(map[string]string{"insert_deduplicate": "0"}))
	if err != nil {
		return fmt.Errorf("cost anomalies: %w", err)
	}
	return nil
}

// Anomalies lists the stored findings of [from, to) (zero: open), the
// largest increase first within a day.
func (r *Reports) Anomalies(ctx context.Context, from, to time.Time) (Table, error) {
	p := map[string]string{}
	where := "1"
	if !from.IsZero() {
		p["from"] = from.UTC().Format("2006-01-02")
		where += " AND day >= {from:Date}"
	}
	if !to.IsZero() {
		p["to"] = to.UTC().Format("2006-01-02")
		where += " AND day < {to:Date}"
	}
	return queryTable(ctx, r.s, "anomalies", "Anomalies", `SELECT toString(a.day) AS day, a.team AS team, if(tn.team_name != '', tn.team_name, a.team) AS team_name,
  a.project AS project, a.service_name AS service, a.rule AS rule, a.billing_currency AS currency, toString(a.cost) AS cost, toString(a.baseline) AS baseline,
  toString(a.increase) AS increase, toString(round(a.score, 1)) AS score
FROM (SELECT * FROM cost_anomalies FINAL WHERE `+where+`) AS a LEFT JOIN teams AS tn ON tn.team = a.team
ORDER BY a.day, a.increase DESC`, p, "cost", "baseline", "increase", "score")
}

// Drivers are the line items behind a finding: the resources and usage
// types of the owner and service whose cost that day rose the most above
// their mean of the baseline days.
func (r *Reports) Drivers(ctx context.Context, day time.Time, team, project, service, currency string, limit int) (Table, error) {
	if limit <= 0 {
		limit = 10
	}
	for _, v := range []string{team, project, service, currency} {
		if strings.ContainsRune(v, 0) {
			return Table{}, fmt.Errorf("%w: a parameter holds a NUL byte", ErrBadRequest)
		}
	}
	d := day.UTC().Truncate(24 * time.Hour)
	p := map[string]string{
		"day": d.Format("2006-01-02 15:04:05"), "lo": d.AddDate(0, 0, -r.cfg.Anomalies.BaselineDays).Format("2006-01-02 15:04:05"),
		"n": strconv.Itoa(r.cfg.Anomalies.BaselineDays), "service": service, "currency": currency, "limit": strconv.Itoa(limit),
		"team": team, "project": project,
	}
	owner := "team = {team:String} AND project = {project:String}"
	if strings.HasPrefix(team, "(") && strings.HasSuffix(team, ")") && project == "" {
		p["kind"] = strings.Trim(team, "()")
		owner = "team = '' AND project = '' AND kind = {kind:String}"
	}
	return queryTable(ctx, r.s, "drivers", "Drivers", `SELECT resource_id, usage_type, namespace, workload,
  toString(sumIf(billed_cost, charge_period_start >= {day:DateTime('UTC')})) AS cost,
  toString(toDecimal128(sumIf(billed_cost, charge_period_start < {day:DateTime('UTC')}) / {n:UInt32}, 12)) AS baseline_mean,
  toString(sumIf(billed_cost, charge_period_start >= {day:DateTime('UTC')}) - toDecimal128(sumIf(billed_cost, charge_period_start < {day:DateTime('UTC')}) / {n:UInt32}, 12)) AS increase
FROM cost_allocated
WHERE `+owner+` AND service_name = {service:String} AND billing_currency = {currency:String}
  AND charge_period_start >= {lo:DateTime('UTC')} AND charge_period_start < {day:DateTime('UTC')} + INTERVAL 1 DAY
GROUP BY resource_id, usage_type, namespace, workload
ORDER BY toDecimal128(increase, 12) DESC
LIMIT {limit:UInt32}`, p, "cost", "baseline_mean", "increase")
}
