package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/table"

	"github.com/furrowdev/furrow/datasource"
)

// The deploys dashboard's variables: the deploy history's projects and
// environments (All: every one).
const (
	varProject     = "${project}"
	varEnvironment = "${environment}"
)

// deployAnnotations is the annotation query of deploys, rollbacks,
// restarts, scale events and CronJob triggers, for this dashboard and the
// others that show incidents' context.
func deployAnnotations(project, environment string) *dashboard.AnnotationQueryBuilder {
	return dashboard.NewAnnotationQueryBuilder().Name("Deploys").
		Datasource(dsRef()).
		Enable(true).
		IconColor("blue").
		Target(furrowTarget("Deploys", datasource.Query{QueryType: datasource.QueryTypeDeployAnnotations, Project: project, Environment: environment}))
}

// Deploys is the deployer's dashboard: the seed's operating metrics
// (deploys per day, failure causes, the ratio of non-deploy actions,
// duration, failure rate) and DORA's four keys, every action an
// annotation on the graphs.
func Deploys() *dashboard.DashboardBuilder {
	deploys := func(q datasource.Query) datasource.Query {
		q.QueryType = datasource.QueryTypeDeploys
		q.Project, q.Environment = varProject, varEnvironment
		if q.Format == "" {
			q.Format = "table"
		}
		return q
	}
	values := func(name, label, what string) *dashboard.QueryVariableBuilder {
		return dashboard.NewQueryVariableBuilder(name).Label(label).
			Datasource(dsRef()).
			Query(dashboard.StringOrMap{Map: map[string]any{"refId": name, "queryType": datasource.QueryTypeValues, "values": what}}).
			Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
			IncludeAll(true).AllValue("$__all").Multi(true).
			Current(option("All", "$__all"))
	}
	tbl := func(title, desc string, span uint32, q datasource.Query) *table.PanelBuilder {
		return table.NewPanelBuilder().Title(title).Datasource(dsRef()).Height(8).Span(span).Description(desc).
			WithTarget(furrowTarget("A", deploys(q)))
	}
	return dashboard.NewDashboardBuilder("furrow: deploys").
		Uid("furrow-deploys").
		Tags([]string{"furrow", "deploys"}).
		Time("now-7d", "now").
		Timezone("utc").
		Refresh("5m").
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		WithVariable(dashboard.NewDatasourceVariableBuilder("datasource").Label("furrow").Type(datasource.PluginID)).
		WithVariable(values("project", "Project", "deploy_projects")).
		WithVariable(values("environment", "Environment", "deploy_environments")).
		Annotation(deployAnnotations(varProject, varEnvironment)).
		WithRow(dashboard.NewRowBuilder("Operating metrics")).
		WithPanel(series("Deploys per day", "short").Span(24).
			Description("Deploys started each UTC day, by result (started: still running).").
			DrawStyle(common.GraphDrawStyleBars).BarAlignment(common.BarAlignmentAfter).FillOpacity(70).
			Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).
			WithTarget(furrowTarget("A", deploys(datasource.Query{Metric: "deploys_per_period", Granularity: "day", Format: "time_series"})))).
		WithPanel(tbl("Failure causes", "Failed actions by cause, read from the cluster (ImagePullBackOff, CrashLoopBackOff, …) or the deployer (LockConflict, RenderError).", 8,
			datasource.Query{Metric: "failure_causes"})).
		WithPanel(tbl("Action types", "Actions by type and their share: deploys against rollbacks, restarts, scale events, CronJob triggers, prunes.", 8,
			datasource.Query{Metric: "action_ratio"})).
		WithPanel(tbl("Failure rate by project", "Finished deploys and the share that failed.", 8,
			datasource.Query{Metric: "failure_rate", By: "project"})).
		WithPanel(tbl("Duration per deploy", "Seconds from the first cluster's start to the last one's end, successful deploys: median, 90th percentile, longest.", 24,
			datasource.Query{Metric: "duration", By: "project,environment"})).
		WithRow(dashboard.NewRowBuilder("DORA")).
		WithPanel(tbl("Deployment frequency", "Successful deploys, the days with one, and per day over the range.", 12,
			datasource.Query{Metric: "deployment_frequency", By: "project"})).
		WithPanel(tbl("Lead time for changes", "Hours from the deployed commit to the deploy's end, where the commit time is known.", 12,
			datasource.Query{Metric: "lead_time", By: "project"})).
		WithPanel(tbl("Change failure rate", "Deploys that failed, or whose next deploy or rollback was a rollback within 24 hours.", 12,
			datasource.Query{Metric: "change_failure_rate", By: "project"})).
		WithPanel(tbl("Time to restore", "Minutes from a failure (the first of a streak) to the next success of its project and environment.", 12,
			datasource.Query{Metric: "time_to_restore", By: "project,environment"}))
}
