package datasource

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/furrowdev/furrow/query/deploys"
)

// The deploy query types read the deployer's ClickHouse history
// (deploy_actions, migration 0016) with query/deploys' SQL, run through
// furrow's SQL interface like the alert history's.
const (
	// QueryTypeDeploys is one deploy metric (Metric: failure_causes,
	// action_ratio, deploys_per_period, duration, failure_rate,
	// deployment_frequency, lead_time, change_failure_rate,
	// time_to_restore), By project, service, team, environment or source.
	QueryTypeDeploys = "deploys"
	// QueryTypeDeployAnnotations are deploys, rollbacks, restarts, scale
	// events and CronJob triggers as annotations.
	QueryTypeDeployAnnotations = "deploy_annotations"
)

// values is a filter's list: comma-separated, All or empty for every
// value.
func values(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		v = strings.TrimSpace(v)
		if v == allValue {
			return nil
		}
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// deployParams is a deploys query's parameters.
func deployParams(m Query, tr TimeRange) (deploys.Params, error) {
	p := deploys.Params{Metric: m.Metric, From: tr.From, To: tr.To, By: values(m.By), Period: m.Granularity,
		Project: values(m.Project), Environment: values(m.Environment), Team: values(m.Team), Source: values(m.Source)}
	if p.Metric == "" {
		p.Metric = deploys.DeploysPerPeriod
	}
	if p.Period == "" && p.Metric == deploys.DeploysPerPeriod {
		p.Period = "day"
	}
	if m.Within != "" {
		d, err := time.ParseDuration(m.Within)
		if err != nil {
			return p, fmt.Errorf("within %q: use a duration such as 24h", m.Within)
		}
		p.Within = d
	}
	return p, p.Validate()
}

// runDeploys answers the deploy query types.
func (d *Datasource) runDeploys(ctx context.Context, m Query, tr TimeRange, refID string, a attribution) (data.Frames, error) {
	for _, f := range m.AdHocFilters {
		if f.Operator != "=" {
			continue
		}
		switch f.Key {
		case "project":
			m.Project = f.Value
		case "environment":
			m.Environment = f.Value
		case "team":
			m.Team = f.Value
		}
	}
	var sql string
	var err error
	if m.QueryType == QueryTypeDeployAnnotations {
		sql, err = deploys.AnnotationsSQL(deploys.AnnotationParams{From: tr.From, To: tr.To, Actions: values(m.Actions),
			Project: values(m.Project), Environment: values(m.Environment), Team: values(m.Team), Source: values(m.Source), Limit: m.Limit})
	} else {
		var p deploys.Params
		if p, err = deployParams(m, tr); err == nil {
			sql, err = deploys.SQL(p)
		}
	}
	if err != nil {
		return nil, backend.DownstreamError(err)
	}
	frame, err := d.sqlFrame(ctx, refID, sql, a)
	if err != nil {
		return nil, err
	}
	if m.Format == "time_series" && m.QueryType == QueryTypeDeploys {
		wide, err := toTimeSeries(frame)
		if err != nil {
			return nil, backend.DownstreamError(fmt.Errorf("metric %s: %w (deploys_per_period has one)", m.Metric, err))
		}
		wide.Meta = frame.Meta
		frame = wide
	}
	return data.Frames{frame}, nil
}
