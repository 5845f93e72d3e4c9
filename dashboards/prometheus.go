package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// The dashboards below read Prometheus, with the metric names
// kube-prometheus (cAdvisor, kube-state-metrics, node-exporter,
// the API server, CoreDNS, kube-proxy), Istio and the AWS VPC CNI
// export. Every expression is parsed by Prometheus's own parser in the
// tests (Grafana's variables replaced first).

func promRef() common.DataSourceRef {
	typ, uid := "prometheus", "${prometheus}"
	return common.DataSourceRef{Type: &typ, Uid: &uid}
}

// promExpr is one expression and the legend of its series.
type promExpr struct{ expr, legend string }

// promPanel is a time series panel of expressions.
func promPanel(title, unit string, exprs ...promExpr) *timeseries.PanelBuilder {
	p := series(title, unit).Datasource(promRef())
	for i, e := range exprs {
		p = p.WithTarget(prometheus.NewDataqueryBuilder().RefId(string(rune('A' + i))).Datasource(promRef()).
			Expr(e.expr).LegendFormat(e.legend).Range())
	}
	return p
}

// promVariables: the Prometheus datasource and the cluster (kube-prometheus
// clusters are told apart by a "cluster" external label).
func promVariables(b *dashboard.DashboardBuilder) *dashboard.DashboardBuilder {
	return b.
		WithVariable(dashboard.NewDatasourceVariableBuilder("prometheus").Label("Prometheus").Type("prometheus")).
		WithVariable(dashboard.NewQueryVariableBuilder("cluster").Label("Cluster").Datasource(promRef()).
			Query(dashboard.StringOrMap{String: str("label_values(kube_node_info, cluster)")}).
			Refresh(dashboard.VariableRefreshOnTimeRangeChanged).IncludeAll(true).AllValue(".*").Current(option("All", "$__all")))
}

func promDashboard(title, uid string, tags ...string) *dashboard.DashboardBuilder {
	return promVariables(dashboard.NewDashboardBuilder(title).Uid(uid).Tags(append([]string{"furrow"}, tags...)).
		Time("now-6h", "now").Timezone("utc").Refresh("1m").Tooltip(dashboard.DashboardCursorSyncCrosshair))
}

// trafficLink opens the cross-zone dashboard with the same variables.
func trafficLink() *dashboard.DashboardLinkBuilder {
	return dashboard.NewDashboardLinkBuilder("Cross-zone traffic and cost").Type(dashboard.DashboardLinkTypeLink).
		Url("/d/furrow-cross-zone").IncludeVars(true).KeepTime(true)
}

// ServiceOverview shows one namespace's golden signals: request rate,
// errors, latency (Istio's sidecar metrics, as the caller sees them), CPU
// and memory saturation and restarts (kube-prometheus).
func ServiceOverview() *dashboard.DashboardBuilder {
	const sel = `reporter="destination", destination_workload_namespace="$namespace", cluster=~"$cluster"`
	const pod = `namespace="$namespace", cluster=~"$cluster"`
	b := promDashboard("furrow: service overview", "furrow-service-overview", "red", "use").
		WithVariable(dashboard.NewQueryVariableBuilder("namespace").Label("Namespace").Datasource(promRef()).
			Query(dashboard.StringOrMap{String: str(`label_values(kube_pod_info{cluster=~"$cluster"}, namespace)`)}).
			Refresh(dashboard.VariableRefreshOnTimeRangeChanged)).
		Link(trafficLink())
	return b.
		WithRow(dashboard.NewRowBuilder("Golden signals (Istio, server side)")).
		WithPanel(promPanel("Requests per second", "reqps",
			promExpr{`sum by (destination_workload) (rate(istio_requests_total{` + sel + `}[$__rate_interval]))`, "{{destination_workload}}"})).
		WithPanel(promPanel("Errors (5xx share)", "percentunit",
			promExpr{`sum by (destination_workload) (rate(istio_requests_total{` + sel + `, response_code=~"5.."}[$__rate_interval])) / sum by (destination_workload) (rate(istio_requests_total{` + sel + `}[$__rate_interval]))`, "{{destination_workload}}"})).
		WithPanel(promPanel("Latency p50, p95, p99", "ms",
			promExpr{`histogram_quantile(0.50, sum by (le, destination_workload) (rate(istio_request_duration_milliseconds_bucket{` + sel + `}[$__rate_interval])))`, "p50 {{destination_workload}}"},
			promExpr{`histogram_quantile(0.95, sum by (le, destination_workload) (rate(istio_request_duration_milliseconds_bucket{` + sel + `}[$__rate_interval])))`, "p95 {{destination_workload}}"},
			promExpr{`histogram_quantile(0.99, sum by (le, destination_workload) (rate(istio_request_duration_milliseconds_bucket{` + sel + `}[$__rate_interval])))`, "p99 {{destination_workload}}"})).
		WithRow(dashboard.NewRowBuilder("Saturation (kube-prometheus)")).
		WithPanel(promPanel("CPU used against requests", "percentunit",
			promExpr{`sum by (pod) (rate(container_cpu_usage_seconds_total{` + pod + `, container!=""}[$__rate_interval])) / sum by (pod) (kube_pod_container_resource_requests{` + pod + `, resource="cpu"})`, "{{pod}}"})).
		WithPanel(promPanel("CPU throttled periods", "percentunit",
			promExpr{`sum by (pod) (rate(container_cpu_cfs_throttled_periods_total{` + pod + `, container!=""}[$__rate_interval])) / sum by (pod) (rate(container_cpu_cfs_periods_total{` + pod + `, container!=""}[$__rate_interval]))`, "{{pod}}"})).
		WithPanel(promPanel("Memory working set against limits", "percentunit",
			promExpr{`sum by (pod) (container_memory_working_set_bytes{` + pod + `, container!=""}) / sum by (pod) (kube_pod_container_resource_limits{` + pod + `, resource="memory"})`, "{{pod}}"})).
		WithPanel(promPanel("Restarts (per hour)", "short",
			promExpr{`sum by (pod) (increase(kube_pod_container_status_restarts_total{` + pod + `}[1h]))`, "{{pod}}"}))
}

// PlatformOverview compares namespaces: traffic, errors, resources, pods
// that are not ready.
func PlatformOverview() *dashboard.DashboardBuilder {
	const c = `cluster=~"$cluster"`
	return promDashboard("furrow: platform overview", "furrow-platform-overview", "platform").
		Link(trafficLink()).
		WithPanel(promPanel("Requests per second by namespace", "reqps",
			promExpr{`topk(15, sum by (destination_workload_namespace) (rate(istio_requests_total{reporter="destination", ` + c + `}[$__rate_interval])))`, "{{destination_workload_namespace}}"})).
		WithPanel(promPanel("5xx share by namespace", "percentunit",
			promExpr{`sum by (destination_workload_namespace) (rate(istio_requests_total{reporter="destination", response_code=~"5..", ` + c + `}[$__rate_interval])) / sum by (destination_workload_namespace) (rate(istio_requests_total{reporter="destination", ` + c + `}[$__rate_interval]))`, "{{destination_workload_namespace}}"})).
		WithPanel(promPanel("CPU by namespace (cores)", "short",
			promExpr{`topk(15, sum by (namespace) (rate(container_cpu_usage_seconds_total{container!="", ` + c + `}[$__rate_interval])))`, "{{namespace}}"})).
		WithPanel(promPanel("Memory by namespace", "bytes",
			promExpr{`topk(15, sum by (namespace) (container_memory_working_set_bytes{container!="", ` + c + `}))`, "{{namespace}}"})).
		WithPanel(promPanel("Pods not ready by namespace", "short",
			promExpr{`sum by (namespace) (kube_pod_status_ready{condition="false", ` + c + `}) > 0`, "{{namespace}}"}))
}

// InfraDoctor answers "is it the infrastructure or not?" at a glance:
// Istio's control plane and sidecars, kube-system (CoreDNS, kube-proxy, the
// CNI's IP addresses, the API server), node saturation (for clusters
// without CPU limits), spot interruptions and evictions.
func InfraDoctor() *dashboard.DashboardBuilder {
	const c = `cluster=~"$cluster"`
	return promDashboard("furrow: infra doctor", "furrow-infra-doctor", "istio", "kube-system", "nodes").
		Link(trafficLink()).
		WithRow(dashboard.NewRowBuilder("Istio")).
		WithPanel(promPanel("Control plane: push errors and xDS rejects", "short",
			promExpr{`sum by (type) (rate(pilot_xds_push_errors{` + c + `}[$__rate_interval]))`, "push errors {{type}}"},
			promExpr{`sum by (type) (rate(pilot_total_xds_rejects{` + c + `}[$__rate_interval]))`, "rejects {{type}}"})).
		WithPanel(promPanel("Control plane: push latency p99", "s",
			promExpr{`histogram_quantile(0.99, sum by (le) (rate(pilot_proxy_convergence_time_bucket{` + c + `}[$__rate_interval])))`, "convergence p99"})).
		WithPanel(promPanel("Sidecar 5xx by response flag", "reqps",
			promExpr{`sum by (response_flags) (rate(istio_requests_total{response_code=~"5..", response_flags!="-", ` + c + `}[$__rate_interval]))`, "{{response_flags}}"})).
		WithPanel(promPanel("Outlier ejections (active)", "short",
			promExpr{`sum by (cluster_name) (envoy_cluster_outlier_detection_ejections_active{` + c + `}) > 0`, "{{cluster_name}}"})).
		WithRow(dashboard.NewRowBuilder("kube-system")).
		WithPanel(promPanel("CoreDNS: SERVFAIL and NXDOMAIN", "reqps",
			promExpr{`sum by (rcode) (rate(coredns_dns_responses_total{rcode=~"SERVFAIL|NXDOMAIN|REFUSED", ` + c + `}[$__rate_interval]))`, "{{rcode}}"})).
		WithPanel(promPanel("CoreDNS: latency p99", "s",
			promExpr{`histogram_quantile(0.99, sum by (le) (rate(coredns_dns_request_duration_seconds_bucket{` + c + `}[$__rate_interval])))`, "p99"})).
		WithPanel(promPanel("kube-proxy: rule sync p99", "s",
			promExpr{`histogram_quantile(0.99, sum by (le) (rate(kubeproxy_sync_proxy_rules_duration_seconds_bucket{` + c + `}[$__rate_interval])))`, "p99"})).
		WithPanel(promPanel("CNI: IP addresses in use (AWS VPC CNI)", "percentunit",
			promExpr{`sum by (instance) (awscni_assigned_ip_addresses{` + c + `}) / sum by (instance) (awscni_total_ip_addresses{` + c + `})`, "{{instance}}"})).
		WithPanel(promPanel("API server: latency p99 by verb", "s",
			promExpr{`histogram_quantile(0.99, sum by (le, verb) (rate(apiserver_request_duration_seconds_bucket{verb!~"WATCH|CONNECT", ` + c + `}[$__rate_interval])))`, "{{verb}}"})).
		WithRow(dashboard.NewRowBuilder("Nodes")).
		WithPanel(promPanel("CPU busy", "percentunit",
			promExpr{`1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle", ` + c + `}[$__rate_interval]))`, "{{instance}}"})).
		WithPanel(promPanel("CPU pressure (waiting)", "percentunit",
			promExpr{`rate(node_pressure_cpu_waiting_seconds_total{` + c + `}[$__rate_interval])`, "{{instance}}"})).
		WithPanel(promPanel("Memory used", "percentunit",
			promExpr{`1 - node_memory_MemAvailable_bytes{` + c + `} / node_memory_MemTotal_bytes{` + c + `}`, "{{instance}}"})).
		WithPanel(promPanel("Disk used", "percentunit",
			promExpr{`max by (instance) (1 - node_filesystem_avail_bytes{fstype!~"tmpfs|overlay|squashfs", ` + c + `} / node_filesystem_size_bytes{fstype!~"tmpfs|overlay|squashfs", ` + c + `})`, "{{instance}}"})).
		WithPanel(promPanel("Network received and sent", "Bps",
			promExpr{`sum by (instance) (rate(node_network_receive_bytes_total{device!~"lo|veth.*|eni.*", ` + c + `}[$__rate_interval]))`, "in {{instance}}"},
			promExpr{`sum by (instance) (rate(node_network_transmit_bytes_total{device!~"lo|veth.*|eni.*", ` + c + `}[$__rate_interval]))`, "out {{instance}}"})).
		WithRow(dashboard.NewRowBuilder("Spot interruptions and evictions")).
		WithPanel(promPanel("Nodes not ready, and nodes cordoned for termination", "short",
			promExpr{`sum(kube_node_status_condition{condition="Ready", status="false", ` + c + `})`, "not ready"},
			promExpr{`sum(kube_node_spec_unschedulable{` + c + `})`, "cordoned"})).
		WithPanel(promPanel("Evicted and lost pods by namespace", "short",
			promExpr{`sum by (namespace, reason) (kube_pod_status_reason{reason=~"Evicted|NodeLost|Shutdown", ` + c + `}) > 0`, "{{namespace}} {{reason}}"}))
}
