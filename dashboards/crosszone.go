// Package dashboards generates furrow's Grafana dashboards as code
// (grafana-foundation-sdk), with the provisioning files that load them and
// the datasource (`furrow dashboards export DIR`, `make plugin`).
package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/furrowdev/furrow/datasource"
)

// The variables' values as the datasource gets them once Grafana has
// interpolated them: the All value is datasource's "$__all".
const (
	varClass     = "${class}"
	varCluster   = "${cluster}"
	varNamespace = "${namespace}"
	varChange    = "${change}"
)

func str(s string) *string { return &s }

func option(text, value string) dashboard.VariableOption {
	return dashboard.VariableOption{Text: dashboard.StringOrArrayOfString{String: &text}, Value: dashboard.StringOrArrayOfString{String: &value}}
}

// commonVariables are the datasource and the filters every furrow
// dashboard has.
func commonVariables(b *dashboard.DashboardBuilder) *dashboard.DashboardBuilder {
	values := func(name, label, what string) *dashboard.QueryVariableBuilder {
		return dashboard.NewQueryVariableBuilder(name).Label(label).
			Datasource(dsRef()).
			Query(dashboard.StringOrMap{Map: map[string]any{"refId": name, "queryType": datasource.QueryTypeValues, "values": what}}).
			Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
			IncludeAll(true).AllValue("$__all").
			Current(option("All", "$__all"))
	}
	return b.
		WithVariable(dashboard.NewDatasourceVariableBuilder("datasource").Label("furrow").Type(datasource.PluginID)).
		WithVariable(values("cluster", "Cluster", "clusters")).
		WithVariable(values("namespace", "Namespace", "namespaces")).
		WithVariable(values("team", "Team", "teams")).
		WithVariable(dashboard.NewCustomVariableBuilder("class").Label("Traffic class").
			Values(dashboard.StringOrMap{String: str("cross-zone,same-zone,nat-gateway,internet-egress,aws-service,all")}).
			Current(option("cross-zone", "cross-zone")))
}

// series is a time series panel with a legend table (sum, mean) and a
// tooltip that lists every series, largest first.
func series(title, unit string) *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().Title(title).Datasource(dsRef()).Unit(unit).Height(8).Span(12).
		Legend(common.NewVizLegendOptionsBuilder().ShowLegend(true).DisplayMode(common.LegendDisplayModeTable).
			Placement(common.LegendPlacementBottom).Calcs([]string{"sum", "mean"})).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderDescending))
}

// CrossZone is the cross-zone traffic and cost dashboard: where the money
// goes (top pairs), how it moves (cost per day, trend), whether a change
// worked (before/after), which workloads send their traffic away from
// their pods (zone skew), with istio-system and monitoring called out.
func CrossZone() *dashboard.DashboardBuilder {
	filters := datasource.Query{Cluster: varCluster, Namespace: varNamespace, Classes: []string{varClass}}
	with := func(q datasource.Query) datasource.Query {
		q.Cluster, q.Namespace, q.Classes = filters.Cluster, filters.Namespace, filters.Classes
		return q
	}
	top := func(title, by string) *table.PanelBuilder {
		return table.NewPanelBuilder().Title(title).Datasource(dsRef()).Height(10).Span(12).
			WithTarget(furrowTarget("A", with(datasource.Query{QueryType: datasource.QueryTypeTopTalkers, By: by, Limit: 20})))
	}
	b := dashboard.NewDashboardBuilder("furrow: cross-zone traffic and cost").
		Uid("furrow-cross-zone").
		Tags([]string{"furrow", "cross-zone", "cost"}).
		Time("now-30d", "now").
		Timezone("utc").
		Refresh("5m").
		Tooltip(dashboard.DashboardCursorSyncCrosshair)
	b = commonVariables(b).
		WithVariable(dashboard.NewTextBoxVariableBuilder("change").Label("Change (before/after)").
			Description("The time of a change to compare around, e.g. 2026-11-02 (locality load balancing switched on)").
			DefaultValue(dashboard.StringOrMap{String: str("")}))
	return b.
		WithRow(dashboard.NewRowBuilder("Where the money goes")).
		WithPanel(series("Cost per day, by class", "currencyUSD").
			WithTarget(furrowTarget("A", with(datasource.Query{QueryType: datasource.QueryTypeCostPerDay, Format: "time_series"})))).
		WithPanel(series("Trend: cost per interval, by class", "currencyUSD").
			WithTarget(furrowTarget("A", datasource.Query{QueryType: datasource.QueryTypeSQL, Format: "time_series", RawSQL: trendSQL}))).
		WithPanel(top("Top namespace pairs", "namespace")).
		WithPanel(top("Top workload pairs", "workload")).
		WithPanel(top("Top zone pairs", "zone")).
		WithPanel(top("Top team pairs (owners from the catalog)", "team")).
		WithPanel(series("Cost per day by sending team", "currencyUSD").
			WithTarget(furrowTarget("A", datasource.Query{QueryType: datasource.QueryTypeSQL, Format: "time_series", RawSQL: teamSQL}))).
		WithPanel(table.NewPanelBuilder().Title("Platform namespaces: istio-system and monitoring").Datasource(dsRef()).Height(10).Span(12).
			Description("Mesh and monitoring traffic is paid by everyone: the ingress gateways, sidecars' control traffic, scrapes and remote writes across zones.").
			WithTarget(furrowTarget("A", datasource.Query{QueryType: datasource.QueryTypeSQL, Format: "table", RawSQL: platformSQL}))).
		WithRow(dashboard.NewRowBuilder("Did the change work?")).
		WithPanel(table.NewPanelBuilder().Title("Before/after ${change}").Datasource(dsRef()).Height(6).Span(12).
			WithTarget(furrowTarget("A", with(datasource.Query{QueryType: datasource.QueryTypeBeforeAfter, At: varChange, Window: "7d"})))).
		WithPanel(table.NewPanelBuilder().Title("Zone skew per workload (traffic share against pod share per zone)").Datasource(dsRef()).Height(10).Span(12).
			Description("After locality load balancing or topology-aware routing, a workload whose traffic leaves the zones its pods are in shows here.").
			WithTarget(furrowTarget("A", datasource.Query{QueryType: datasource.QueryTypeZoneSkew, Cluster: varCluster, Namespace: varNamespace, Limit: 20})))
}

// trendSQL is the cost per interval and class, from the hourly rollup.
const trendSQL = `SELECT $__timeInterval(hour) AS time, traffic_class, sum(cost_usd) AS cost
FROM flow_traffic_hourly
WHERE $__timeFilter(hour)
  AND $__conditionalAll((src_namespace = '${namespace}' OR dst_namespace = '${namespace}'), '${namespace}')
  AND $__conditionalAll((src_cluster = '${cluster}' OR dst_cluster = '${cluster}'), '${cluster}')
GROUP BY time, traffic_class
ORDER BY time`

// platformSQL is the traffic and cost of istio-system and monitoring, by
// class, from the daily rollup.
const platformSQL = `SELECT if(src_namespace IN ('istio-system', 'monitoring'), src_namespace, dst_namespace) AS platform_namespace,
  traffic_class, round(sum(transfer_bytes)) AS bytes, round(sum(cost_usd), 2) AS cost_usd
FROM flow_traffic_daily
WHERE $__dateFilter(day) AND (src_namespace IN ('istio-system', 'monitoring') OR dst_namespace IN ('istio-system', 'monitoring'))
GROUP BY platform_namespace, traffic_class
ORDER BY cost_usd DESC`

// teamSQL is the cost per day of each team's sending namespaces, from the
// daily rollup joined to the catalog's mirror; a namespace no project
// claims shows as "(unowned) <namespace>".
const teamSQL = `SELECT day AS time, if(o.team != '', o.team, concat('(unowned) ', t.src_namespace)) AS team, sum(t.cost_usd) AS cost
FROM flow_traffic_daily AS t
LEFT JOIN namespace_owners AS o ON o.cluster = t.src_cluster AND o.namespace = t.src_namespace
WHERE $__dateFilter(day) AND t.src_kind = 'pod' AND t.traffic_class = '${class}'
  AND $__conditionalAll(o.team = '${team}', '${team}')
GROUP BY time, team
ORDER BY time`
