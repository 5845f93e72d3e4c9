package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/furrowdev/furrow/datasource"
)

// varTeam is the cost dashboard's team: a stable team code (All: every
// team and the cost no team owns).
const varTeam = "${team}"

// stacked is a time series of cost whose series add up to the bill: bars
// per step when bars is set, areas else.
func stacked(title string, bars bool) *timeseries.PanelBuilder {
	p := series(title, "currencyUSD").
		Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).
		FillOpacity(70)
	if bars {
		p = p.DrawStyle(common.GraphDrawStyleBars).BarAlignment(common.BarAlignmentAfter)
	}
	return p
}

// Cost is the allocated bill's dashboard: who spends (by team per day and
// per hour, team → project → namespace), billed against effective cost,
// what nobody owns (idle, shared, unowned), the month to date and its
// forecast, the network line items reconciled with the traffic, and the
// unintended increases, as a table and as annotations on every graph.
func Cost() *dashboard.DashboardBuilder {
	cost := func(q datasource.Query) datasource.Query {
		q.QueryType = datasource.QueryTypeCost
		if q.Team == "" {
			q.Team = varTeam
		}
		return q
	}
	b := dashboard.NewDashboardBuilder("furrow: cost").
		Uid("furrow-cost").
		Tags([]string{"furrow", "cost"}).
		Time("now-30d", "now").
		Timezone("utc").
		Refresh("1h").
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		WithVariable(dashboard.NewDatasourceVariableBuilder("datasource").Label("furrow").Type(datasource.PluginID)).
		WithVariable(dashboard.NewQueryVariableBuilder("team").Label("Team").
			Description("A team by its stable code from the catalog: renames do not change it").
			Datasource(dsRef()).
			Query(dashboard.StringOrMap{Map: map[string]any{"refId": "team", "queryType": datasource.QueryTypeValues, "values": "cost_teams"}}).
			Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
			IncludeAll(true).AllValue("$__all").
			Current(option("All", "$__all"))).
		Annotation(dashboard.NewAnnotationQueryBuilder().Name("Cost anomalies").
			Datasource(dsRef()).
			Enable(true).
			IconColor("red").
			Target(furrowTarget("Anomalies", datasource.Query{QueryType: datasource.QueryTypeCostAnomalies})))
	return b.
		WithRow(dashboard.NewRowBuilder("Who spends")).
		WithPanel(stacked("Cost per day by team", true).
			Description("The bill allocated to teams (shared namespaces spread over their users); (idle) and (unowned) are what no team owns.").
			WithTarget(furrowTarget("A", cost(datasource.Query{By: "team", Granularity: "day", Format: "time_series"})))).
		WithPanel(table.NewPanelBuilder().Title("Team → project → namespace").Datasource(dsRef()).Height(8).Span(12).
			WithTarget(furrowTarget("A", cost(datasource.Query{By: "team,project,namespace", Format: "table"})))).
		WithPanel(stacked("Cost per hour by team", false).Span(24).
			WithTarget(furrowTarget("A", cost(datasource.Query{By: "team", Granularity: "hour", Format: "time_series"})))).
		WithRow(dashboard.NewRowBuilder("What the cost is")).
		WithPanel(series("Billed against effective cost, per day", "currencyUSD").
			Description("Billed is the invoice; effective spreads reservations and savings plans over the hours they cover.").
			WithTarget(furrowTarget("A", cost(datasource.Query{Granularity: "day", Metric: "billed", Format: "time_series"}))).
			WithTarget(furrowTarget("B", cost(datasource.Query{Granularity: "day", Metric: "effective", Format: "time_series"}))).
			OverrideByQuery("A", []dashboard.DynamicConfigValue{{Id: "displayName", Value: "billed ${__field.labels.kind}"}}).
			OverrideByQuery("B", []dashboard.DynamicConfigValue{{Id: "displayName", Value: "effective ${__field.labels.kind}"}})).
		WithPanel(stacked("Idle, shared and unowned, per day", true).
			Description("Node capacity no pod used (idle), shared namespaces shown apart (shared), and line items no tag or catalog entry claims (unowned).").
			WithTarget(furrowTarget("A", cost(datasource.Query{Granularity: "day", Shared: "apart", Format: "time_series"})))).
		WithRow(dashboard.NewRowBuilder("This month")).
		WithPanel(table.NewPanelBuilder().Title("Month to date and forecast").Datasource(dsRef()).Height(8).Span(12).
			Description("As of the end of the time range: the month to date (whole days), the forecast (the last 7 days' mean to the month's end) and the previous month.").
			WithTarget(furrowTarget("A", datasource.Query{QueryType: datasource.QueryTypeCostSummary}))).
		WithPanel(table.NewPanelBuilder().Title("Network: bill against attributed").Datasource(dsRef()).Height(8).Span(12).
			Description("Data transfer and NAT line items per day and class: attributed to sending namespaces, unexplained, and the traffic tables' own estimate.").
			WithTarget(furrowTarget("A", datasource.Query{QueryType: datasource.QueryTypeCostNetwork}))).
		WithRow(dashboard.NewRowBuilder("Unintended increases")).
		WithPanel(table.NewPanelBuilder().Title("Cost anomalies").Datasource(dsRef()).Height(8).Span(24).
			Description("An owner and service's day above its trailing baseline (same weekdays, else the last 14 days) by a robust score, an amount and a ratio; also marked on the graphs.").
			WithTarget(furrowTarget("A", datasource.Query{QueryType: datasource.QueryTypeCostAnomalies, Format: "table"})))
}
