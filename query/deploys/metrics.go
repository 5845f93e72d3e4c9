// Package deploys computes the deployer's operating metrics and DORA's
// four keys from ClickHouse's deploy_actions view (one row per action
// over its clusters; migration 0016): failure causes, the ratio of action
// types, deploys per period, duration per deploy, failure rate,
// deployment frequency, lead time, change failure rate and time to
// restore. Each metric is one SQL statement (SQL), run by Run or the
// function named after it, served at GET /api/v1/deploys/metrics and
// written by the Grafana datasource's deploys query type.
package deploys

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/furrowdev/furrow/internal/chsql"
)

// Metric names.
const (
	FailureCauses       = "failure_causes"
	ActionRatio         = "action_ratio"
	DeploysPerPeriod    = "deploys_per_period"
	Duration            = "duration"
	FailureRate         = "failure_rate"
	DeploymentFrequency = "deployment_frequency"
	LeadTime            = "lead_time"
	ChangeFailureRate   = "change_failure_rate"
	TimeToRestore       = "time_to_restore"
)

// Metrics lists every metric, in the order the documentation gives them.
var Metrics = []string{FailureCauses, ActionRatio, DeploysPerPeriod, Duration, FailureRate,
	DeploymentFrequency, LeadTime, ChangeFailureRate, TimeToRestore}

// Dimensions a metric can be broken down by.
var Dimensions = []string{"project", "service", "team", "environment", "source"}

// ErrBadParams is wrapped by the refusal of a parameter.
var ErrBadParams = errors.New("bad deploy metrics parameters")

// DefaultWithin is how soon after a deploy a rollback makes it a failed
// change (change_failure_rate).
const DefaultWithin = 24 * time.Hour

// restoreHorizon bounds how far a failure streak is followed, before the
// range (to know whether a failure in it starts a streak) and after it
// (the success that restores it).
const restoreHorizon = 30 * 24 * time.Hour

// Params choose a metric, its time range (actions that started in
// [From, To)), its breakdown and filters.
type Params struct {
	Metric   string
	From, To time.Time
	// By breaks the metric down by dimensions (Dimensions); none gives
	// one row (one per period or cause where the metric has them).
	By []string
	// Period is day or week (Monday), for deploys_per_period.
	Period string
	// Within is change_failure_rate's window; 0 is DefaultWithin.
	Within time.Duration
	// Filters: each a list of values, empty for all.
	Project, Environment, Team, Source []string
}

// Validate reports what is wrong with p.
func (p Params) Validate() error {
	var errs []string
	if !known(Metrics, p.Metric) {
		errs = append(errs, fmt.Sprintf("metric %q: use one of %s", p.Metric, strings.Join(Metrics, ", ")))
	}
	if p.From.IsZero() || p.To.IsZero() || !p.To.After(p.From) {
		errs = append(errs, "a time range from < to is needed")
	}
	seen := map[string]bool{}
	for _, d := range p.By {
		if !known(Dimensions, d) {
			errs = append(errs, fmt.Sprintf("by %q: use %s or none", d, strings.Join(Dimensions, ", ")))
		}
		if seen[d] {
			errs = append(errs, fmt.Sprintf("by %q twice", d))
		}
		seen[d] = true
	}
	switch p.Period {
	case "", "day", "week":
	default:
		errs = append(errs, fmt.Sprintf("period %q: use day or week", p.Period))
	}
	if p.Within < 0 || p.Within > 90*24*time.Hour {
		errs = append(errs, "within: between 0 (24h) and 90 days")
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrBadParams, strings.Join(errs, "; "))
}

func known(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// chTime is t as a DateTime64(3, 'UTC') literal.
func chTime(t time.Time) string {
	return "toDateTime64(" + chsql.QuoteString(t.UTC().Format("2006-01-02 15:04:05.000")) + ", 3, 'UTC')"
}

// filter is the WHERE condition of p's filters.
func (p Params) filter() string {
	conds := []string{}
	for _, f := range []struct {
		col  string
		vals []string
	}{{"project", p.Project}, {"environment", p.Environment}, {"team", p.Team}, {"source", p.Source}} {
		var vals []string
		for _, v := range f.vals {
			if v = strings.TrimSpace(v); v != "" {
				vals = append(vals, v)
			}
		}
		if len(vals) > 0 {
			sort.Strings(vals)
			conds = append(conds, f.col+" IN "+chsql.QuoteStrings(vals))
		}
	}
	if len(conds) == 0 {
		return "1"
	}
	return strings.Join(conds, " AND ")
}

// actions is the actions that started in [from, to), filtered.
func (p Params) actions(from, to time.Time, where string) string {
	return fmt.Sprintf("(SELECT * FROM deploy_actions WHERE started_at >= %s AND started_at < %s AND %s AND %s)",
		chTime(from), chTime(to), p.filter(), where)
}

// SQL is the statement computing p's metric.
func SQL(p Params) (string, error) {
	if err := p.Validate(); err != nil {
		return "", err
	}
	by := strings.Join(p.By, ", ")
	sel, group, order := "", "", ""
	if by != "" {
		sel, group, order = by+", ", " GROUP BY "+by, by+", "
	}
	groupWith := func(cols string) string {
		if by == "" {
			return " GROUP BY " + cols
		}
		return " GROUP BY " + by + ", " + cols
	}
	within := p.Within
	if within == 0 {
		within = DefaultWithin
	}
	days := math.Max(p.To.Sub(p.From).Hours()/24, 1.0/24)
	switch p.Metric {
	case FailureCauses:
		return fmt.Sprintf(`SELECT %sif(failure_cause = '', '(unknown)', failure_cause) AS cause, count() AS failures
FROM %s%s
ORDER BY %sfailures DESC, cause`, sel, p.actions(p.From, p.To, "result = 'failed'"), groupWith("cause"), order), nil
	case ActionRatio:
		over := "OVER ()"
		if by != "" {
			over = "OVER (PARTITION BY " + by + ")"
		}
		return fmt.Sprintf(`SELECT %saction, count() AS actions, round(actions / sum(actions) %s, 4) AS share
FROM %s%s
ORDER BY %sactions DESC, action`, sel, over, p.actions(p.From, p.To, "1"), groupWith("action"), order), nil
	case DeploysPerPeriod:
		period := "toDateTime(toDate(started_at), 'UTC')"
		if p.Period == "week" {
			period = "toDateTime(toMonday(started_at), 'UTC')"
		}
		return fmt.Sprintf(`SELECT %s AS period, %scount() AS deploys, countIf(result = 'succeeded') AS succeeded, countIf(result = 'failed') AS failed, countIf(result = 'cancelled') AS cancelled
FROM %s
GROUP BY period%s
ORDER BY period%s`, period, sel, p.actions(p.From, p.To, "action = 'deploy'"), prefixed(", ", by), prefixed(", ", by)), nil
	case Duration:
		return fmt.Sprintf(`SELECT %scount() AS deploys, round(quantileExactInclusive(0.5)(duration_ms) / 1000, 1) AS p50_seconds, round(quantileExactInclusive(0.9)(duration_ms) / 1000, 1) AS p90_seconds, round(max(duration_ms) / 1000, 1) AS max_seconds
FROM %s%s
ORDER BY %sdeploys DESC`, sel, p.actions(p.From, p.To, "action = 'deploy' AND result = 'succeeded'"), group, order), nil
	case FailureRate:
		return fmt.Sprintf(`SELECT %scount() AS deploys, countIf(result = 'failed') AS failed, round(failed / deploys, 4) AS failure_rate
FROM %s%s
ORDER BY %sfailure_rate DESC`, sel, p.actions(p.From, p.To, "action = 'deploy' AND result IN ('succeeded', 'failed', 'cancelled')"), group, order), nil
	case DeploymentFrequency:
		return fmt.Sprintf(`SELECT %scount() AS deploys, uniqExact(toDate(started_at)) AS active_days, round(deploys / %g, 3) AS deploys_per_day
FROM %s%s
ORDER BY %sdeploys DESC`, sel, days, p.actions(p.From, p.To, "action = 'deploy' AND result = 'succeeded'"), group, order), nil
	case LeadTime:
		return fmt.Sprintf(`SELECT %scount() AS deploys, round(quantileExactInclusive(0.5)(lead_seconds) / 3600, 2) AS p50_hours, round(quantileExactInclusive(0.9)(lead_seconds) / 3600, 2) AS p90_hours
FROM (SELECT *, dateDiff('second', assumeNotNull(commit_time), assumeNotNull(finished_at)) AS lead_seconds FROM %s)%s
ORDER BY %sdeploys DESC`, sel, p.actions(p.From, p.To, "action = 'deploy' AND result = 'succeeded' AND commit_time IS NOT NULL AND finished_at IS NOT NULL"), group, order), nil
	case ChangeFailureRate:
		// A deploy is a failed change when it failed, or when the next
		// deploy or rollback of its project and environment is a
		// rollback started within the window after it finished.
		return fmt.Sprintf(`SELECT %scount() AS deploys, countIf(failed_change) AS failed_changes, round(failed_changes / deploys, 4) AS change_failure_rate
FROM (
    SELECT *, result = 'failed' OR (next_action = 'rollback' AND next_at <= coalesce(finished_at, started_at) + INTERVAL %d SECOND) AS failed_change
    FROM (
        SELECT *, leadInFrame(action) OVER w AS next_action, leadInFrame(started_at) OVER w AS next_at
        FROM %s
        WINDOW w AS (PARTITION BY project, environment ORDER BY started_at, deploy_id ROWS BETWEEN CURRENT ROW AND 1 FOLLOWING)
    )
    WHERE action = 'deploy' AND started_at < %s
)%s
ORDER BY %schange_failure_rate DESC`, sel, int64(within/time.Second),
			p.actions(p.From, p.To.Add(within), "((action = 'deploy' AND result IN ('succeeded', 'failed')) OR (action = 'rollback' AND result != 'started'))"),
			chTime(p.To), group, order), nil
	case TimeToRestore:
		// A failure streak (failed deploys or rollbacks in a row, per
		// project and environment) is restored by the next success; its
		// time runs from the first failure's end.
		return fmt.Sprintf(`SELECT %scount() AS failures, countIf(restored_at IS NOT NULL) AS restored, round(quantileExactInclusive(0.5)(restore_seconds) / 60, 1) AS p50_minutes, round(quantileExactInclusive(0.9)(restore_seconds) / 60, 1) AS p90_minutes, round(max(restore_seconds) / 60, 1) AS max_minutes
FROM (
    SELECT *, dateDiff('second', assumeNotNull(finished_at), restored_at) AS restore_seconds
    FROM (
        SELECT *,
            lagInFrame(result) OVER (PARTITION BY project, environment ORDER BY started_at, deploy_id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS previous_result,
            min(if(result = 'succeeded', finished_at, NULL)) OVER (PARTITION BY project, environment ORDER BY started_at, deploy_id ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS restored_at
        FROM %s
    )
    WHERE result = 'failed' AND previous_result != 'failed' AND started_at >= %s AND started_at < %s
)%s
ORDER BY %sp90_minutes DESC`, sel,
			p.actions(p.From.Add(-restoreHorizon), p.To.Add(restoreHorizon), "action IN ('deploy', 'rollback') AND result IN ('succeeded', 'failed')"),
			chTime(p.From), chTime(p.To), group, order), nil
	}
	return "", fmt.Errorf("%w: metric %q", ErrBadParams, p.Metric)
}

func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

// AnnotationParams choose the annotations: actions that started in
// [From, To), of the given kinds (empty: all), filtered like a metric.
type AnnotationParams struct {
	From, To                           time.Time
	Actions                            []string
	Project, Environment, Team, Source []string
	// Limit bounds the annotations (default 1000).
	Limit int
}

// AnnotationsSQL is the statement listing deploy actions as Grafana
// annotations: time and timeEnd (the action's start and end, or start
// while it runs), title, text and tags (project, environment, actor,
// result, action).
func AnnotationsSQL(a AnnotationParams) (string, error) {
	if a.From.IsZero() || a.To.IsZero() || !a.To.After(a.From) {
		return "", fmt.Errorf("%w: annotations need a time range", ErrBadParams)
	}
	actionsCond := "1"
	var acts []string
	for _, x := range a.Actions {
		if x = strings.TrimSpace(x); x != "" {
			switch x {
			case "deploy", "rollback", "restart", "scale", "cronjob_trigger", "prune":
			default:
				return "", fmt.Errorf("%w: action %q: use deploy, rollback, restart, scale, cronjob_trigger or prune", ErrBadParams, x)
			}
			acts = append(acts, x)
		}
	}
	if len(acts) > 0 {
		sort.Strings(acts)
		actionsCond = "action IN " + chsql.QuoteStrings(acts)
	}
	limit := a.Limit
	if limit <= 0 {
		limit = 1000
	}
	p := Params{Project: a.Project, Environment: a.Environment, Team: a.Team, Source: a.Source}
	return fmt.Sprintf(`SELECT started_at AS time, coalesce(finished_at, started_at) AS timeEnd,
    concat(multiIf(result = 'failed', '❌ ', result = 'succeeded', '✅ ', result = 'cancelled', '⏹ ', '⏳ '), project, ' · ', environment, ' · ',
        action, if(action = 'scale' AND replicas_to IS NOT NULL, concat(' ', toString(replicas_from), '→', toString(replicas_to)), '')) AS title,
    concat(if(actor_name != '', actor_name, if(actor != '', actor, 'unknown')), ' (', source, '): ', result,
        if(image != '', concat(', ', image), if(revision != '', concat(', ', revision), '')),
        if(failure_cause != '', concat(', ', failure_cause), ''),
        if(duration_ms IS NOT NULL, concat(', ', toString(round(assumeNotNull(duration_ms) / 1000, 1)), ' s'), ''),
        if(message != '', concat('\n', message), '')) AS text,
    arrayStringConcat(arrayFilter(x -> x != '', [project, environment, if(actor != '', actor, ''), result, action]), ',') AS tags
FROM %s
ORDER BY time LIMIT %d`, p.actions(a.From, a.To, actionsCond), limit), nil
}
