package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/table"

	"github.com/furrowdev/furrow/datasource"
)

// varAlertName is the alerts dashboard's alert name (All: every one); its
// namespace is varNamespace, from the alert history's namespaces.
const varAlertName = "${alertname}"

// deliveriesSQL counts delivery attempts per step and outcome (ok, retry,
// failed); snoozed and suppressed ones were never sent.
const deliveriesSQL = `SELECT $__timeInterval(at) AS time, status, count() AS attempts
FROM alert_deliveries
WHERE $__timeFilter(at) AND kind NOT IN ('snoozed', 'suppressed')
  AND $__conditionalAll(if(namespace = '', '(no namespace)', namespace) = '${namespace}', '${namespace}')
  AND $__conditionalAll(alertname = '${alertname}', '${alertname}')
GROUP BY time, status ORDER BY time`

// deliveryLagSQL is the delivery lag (webhook accepted → Slack called) per
// step: p50 and p99.
const deliveryLagSQL = `SELECT $__timeInterval(at) AS time, quantile(0.5)(lag_ms) AS p50, quantile(0.99)(lag_ms) AS p99
FROM alert_deliveries
WHERE $__timeFilter(at) AND kind NOT IN ('snoozed', 'suppressed')
  AND $__conditionalAll(if(namespace = '', '(no namespace)', namespace) = '${namespace}', '${namespace}')
  AND $__conditionalAll(alertname = '${alertname}', '${alertname}')
GROUP BY time ORDER BY time`

// deliveryTableSQL sums the range's deliveries per channel and kind.
const deliveryTableSQL = `SELECT channel, kind, count() AS attempts, countIf(status = 'ok') AS ok, countIf(status = 'retry') AS retry,
       countIf(status = 'failed') AS failed, quantile(0.99)(lag_ms) AS p99_lag_ms, any(if(status = 'failed', error, '')) AS an_error
FROM alert_deliveries
WHERE $__timeFilter(at) AND kind NOT IN ('snoozed', 'suppressed')
  AND $__conditionalAll(if(namespace = '', '(no namespace)', namespace) = '${namespace}', '${namespace}')
  AND $__conditionalAll(alertname = '${alertname}', '${alertname}')
GROUP BY channel, kind ORDER BY attempts DESC`

// Alerts is the alert history dashboard: per-namespace history, the
// overall view (fired, resolved, firing), the noisiest alerts, time to
// resolve, and delivery to Slack; every alert is an annotation from fired
// to resolved on the graphs.
func Alerts() *dashboard.DashboardBuilder {
	alerts := func(q datasource.Query) datasource.Query {
		q.QueryType = datasource.QueryTypeAlerts
		q.Namespace, q.AlertName = varNamespace, varAlertName
		return q
	}
	values := func(name, label, what string) *dashboard.QueryVariableBuilder {
		return dashboard.NewQueryVariableBuilder(name).Label(label).
			Datasource(dsRef()).
			Query(dashboard.StringOrMap{Map: map[string]any{"refId": name, "queryType": datasource.QueryTypeValues, "values": what}}).
			Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
			IncludeAll(true).AllValue("$__all").
			Current(option("All", "$__all"))
	}
	b := dashboard.NewDashboardBuilder("furrow: alerts").
		Uid("furrow-alerts").
		Tags([]string{"furrow", "alerts"}).
		Time("now-2d", "now").
		Timezone("utc").
		Refresh("1m").
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		WithVariable(dashboard.NewDatasourceVariableBuilder("datasource").Label("furrow").Type(datasource.PluginID)).
		WithVariable(values("namespace", "Namespace", "alert_namespaces").
			Description("An alert's namespace, as alert delivery split it; (no namespace): the default route's")).
		WithVariable(values("alertname", "Alert", "alertnames")).
		Annotation(dashboard.NewAnnotationQueryBuilder().Name("Alerts").
			Datasource(dsRef()).
			Enable(true).
			IconColor("orange").
			Target(furrowTarget("Alerts", datasource.Query{QueryType: datasource.QueryTypeAlertAnnotations, Namespace: varNamespace, AlertName: varAlertName}))).
		// Deploys, restarts and scale events: the context of an incident.
		Annotation(deployAnnotations("", ""))
	return b.
		WithRow(dashboard.NewRowBuilder("History")).
		WithPanel(series("Fired per hour by namespace", "short").Span(24).
			Description("Alert episodes that began in each hour (an alert's firing until its resolve is one episode, however often its sender repeats it).").
			DrawStyle(common.GraphDrawStyleBars).BarAlignment(common.BarAlignmentAfter).FillOpacity(70).
			Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).
			WithTarget(furrowTarget("A", alerts(datasource.Query{Metric: "fired", By: "namespace", Granularity: "hour", Format: "time_series"})))).
		WithPanel(series("Fired, resolved and firing", "short").
			Description("All alerts: episodes that began and ended in each step, and those firing during it.").
			WithTarget(furrowTarget("A", alerts(datasource.Query{Metric: "fired", Format: "time_series"}))).
			WithTarget(furrowTarget("B", alerts(datasource.Query{Metric: "resolved", Format: "time_series"}))).
			WithTarget(furrowTarget("C", alerts(datasource.Query{Metric: "firing", Format: "time_series"})))).
		WithPanel(series("Firing by alert", "short").
			Description("Alerts firing during each step, by alert name.").
			WithTarget(furrowTarget("A", alerts(datasource.Query{Metric: "firing", By: "alertname", Format: "time_series"})))).
		WithRow(dashboard.NewRowBuilder("Noisy alerts and time to resolve")).
		WithPanel(table.NewPanelBuilder().Title("Top noisy alerts").Datasource(dsRef()).Height(9).Span(12).
			Description("Episodes (incidents) and firing notifications (fires: the sender's repeats included) per namespace and alert, over the range; firing_at_end: still firing when it ends.").
			WithTarget(furrowTarget("A", alerts(datasource.Query{Metric: "fired", By: "namespace,alertname", Format: "table", Limit: 20})))).
		WithPanel(table.NewPanelBuilder().Title("Time to resolve").Datasource(dsRef()).Height(9).Span(12).
			Description("Minutes from fired to resolved of the episodes resolved in the range, per alert: median, 90th percentile, longest.").
			WithTarget(furrowTarget("A", alerts(datasource.Query{Metric: "resolve_time", By: "alertname", Format: "table"})))).
		WithRow(dashboard.NewRowBuilder("Delivery to Slack")).
		WithPanel(series("Delivery attempts: ok, retry, failed", "short").
			Description("Slack calls per step by outcome: retry will be tried again, failed was given up (a 4xx, channel_not_found…).").
			DrawStyle(common.GraphDrawStyleBars).BarAlignment(common.BarAlignmentAfter).FillOpacity(70).
			Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).
			WithTarget(furrowTarget("A", datasource.Query{QueryType: datasource.QueryTypeSQL, Format: "time_series", RawSQL: deliveriesSQL}))).
		WithPanel(series("Delivery lag (accepted → Slack)", "ms").
			Description("From the webhook's acceptance to the Slack call: p50 and p99 per step.").
			WithTarget(furrowTarget("A", datasource.Query{QueryType: datasource.QueryTypeSQL, Format: "time_series", RawSQL: deliveryLagSQL}))).
		WithPanel(table.NewPanelBuilder().Title("Deliveries per channel").Datasource(dsRef()).Height(8).Span(24).
			WithTarget(furrowTarget("A", datasource.Query{QueryType: datasource.QueryTypeSQL, Format: "table", RawSQL: deliveryTableSQL})))
}
