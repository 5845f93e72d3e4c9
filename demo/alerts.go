package demo

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// The demo's alerts: what the cluster's Prometheus (through Alertmanager,
// webhook version 4) and Grafana's unified alerting (webhook version 1)
// would have sent furrow over the data set's days, one file per
// notification under DIR/alerts/, named by the time furrow received it
// (AlertFileName). Each sender group is run through the dispatcher's
// timing, as Alertmanager does it: the first notification group_wait
// after the first alert, changes (new alerts, resolves) on the next
// group_interval tick, the same firing alerts again every repeat
// interval, resolved alerts sent once.
//
// What it holds, on purpose: flapping alerts (crash loops, latency) that
// fire a dozen times and resolve within minutes, HPA alerts at the daily
// peaks, long ones (a volume filling up, a certificate), an error-budget
// burn that still fires at the end, the seed's ingress 5xx with code and
// responseFlag labels and values on either side of its mention rules,
// one Grafana notification spanning two namespaces (the split's case),
// node alerts without a namespace, and alerts of unowned namespaces.

// Senders' timing (Alertmanager's defaults, Grafana's are the same).
const (
	alertGroupWait     = 30 * time.Second
	alertGroupInterval = 5 * time.Minute
	alertRepeat        = 4 * time.Hour
)

// Sources of the demo's alert files, as furrow's webhook routes name them.
const (
	AlertSourceAlertmanager = "alertmanager"
	AlertSourceGrafana      = "grafana"
)

// alertEpisode is one alert instance firing from start to end (zero: still
// firing when the data set ends).
type alertEpisode struct {
	labels     map[string]string
	start, end time.Time
	value      float64
}

// alertGroup is what a sender puts in one notification: one rule's alerts
// grouped by Alertmanager's group_by, or one Grafana rule (Grafana groups
// by alert name and folder, across namespaces).
type alertGroup struct {
	source   string
	rule     string
	groupBy  []string
	repeat   time.Duration
	summary  string // annotation template: {{ns}}, {{value}}, {{label:x}}
	expr     string // the rule's query, for the generator URL
	runbook  string
	unit     string // the value's unit in the text
	episodes []alertEpisode
}

// alertNotification is one webhook call to write.
type alertNotification struct {
	received time.Time
	source   string
	body     []byte
}

// AlertFileName is the name of the file of a notification received at at
// from source, seq-th of the data set: 20261101T021030.412Z_alertmanager_0007.json.
func AlertFileName(at time.Time, source string, seq int) string {
	return fmt.Sprintf("%s_%s_%04d.json", at.UTC().Format("20060102T150405.000Z"), source, seq)
}

// ParseAlertFileName reads the receive time and source back from a name
// AlertFileName gave (a directory part is ignored); ok is false for any
// other name.
func ParseAlertFileName(name string) (at time.Time, source string, ok bool) {
	parts := strings.Split(strings.TrimSuffix(filepath.Base(name), ".json"), "_")
	if len(parts) != 3 || !strings.HasSuffix(name, ".json") {
		return time.Time{}, "", false
	}
	t, err := time.Parse("20060102T150405.000Z", parts[0])
	if err != nil || (parts[1] != AlertSourceAlertmanager && parts[1] != AlertSourceGrafana) {
		return time.Time{}, "", false
	}
	return t.UTC(), parts[1], true
}

// writeAlerts writes DIR/alerts/*.json and returns how many notifications.
func (d *dataset) writeAlerts(dir string) (int, error) {
	adir := filepath.Join(dir, "alerts")
	if err := os.MkdirAll(adir, 0o755); err != nil {
		return 0, err
	}
	ns := d.alertNotifications()
	for i, n := range ns {
		name := filepath.Join(adir, AlertFileName(n.received, n.source, i+1))
		if err := os.WriteFile(name, n.body, 0o644); err != nil {
			return 0, err
		}
	}
	return len(ns), nil
}

// alertNotifications are every sender group's notifications, in the order
// furrow receives them.
func (d *dataset) alertNotifications() []alertNotification {
	r := newRNG(d.o.Seed, 1<<40)
	end := d.o.end()
	var out []alertNotification
	for _, g := range demoAlertGroups(r, d.o.Start, end) {
		out = append(out, g.notifications(r, end)...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].received.Before(out[j].received) })
	return out
}

// demoAlertGroups are the demo's alert rules and their episodes, between
// start and end (whatever the data set's length: episodes past its end are
// never sent, and days repeat).
func demoAlertGroups(r rng, start, end time.Time) []alertGroup {
	at := func(day int, hhmm string) time.Time {
		t, _ := time.Parse("15:04", hhmm)
		return start.Add(time.Duration(day)*24*time.Hour + time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute)
	}
	days := int(end.Sub(start) / (24 * time.Hour))
	lbl := func(kv ...string) map[string]string {
		m := map[string]string{"cluster": ClusterName}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	// flapping draws n episodes of minMin..maxMin minutes at random times.
	flapping := func(n int, minMin, maxMin int, labels func(i int) map[string]string, value func() float64) []alertEpisode {
		var eps []alertEpisode
		span := int(end.Sub(start)/time.Minute) - maxMin - 10
		for i := range n {
			s := start.Add(time.Duration(r.IntN(span)) * time.Minute)
			dur := time.Duration(minMin+r.IntN(maxMin-minMin+1))*time.Minute + time.Duration(r.IntN(60))*time.Second
			eps = append(eps, alertEpisode{labels: labels(i), start: s, end: s.Add(dur), value: value()})
		}
		return eps
	}
	pod := func(ws string) string { return ws + "-" + r.suffix(10) + "-" + r.suffix(5) }
	crashPods := []string{pod("recommendations-api"), pod("recommendations-api")}
	groups := []alertGroup{
		{source: AlertSourceAlertmanager, rule: "KubePodCrashLooping", groupBy: []string{"alertname", "namespace"}, repeat: alertRepeat,
			summary: "Pod {{ns}}/{{label:pod}} ({{label:container}}) is in waiting state (reason: \"CrashLoopBackOff\").",
			expr:    `max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff",job="kube-state-metrics"}[5m]) >= 1`,
			runbook: "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping",
			episodes: flapping(14, 6, 25, func(i int) map[string]string {
				return lbl("alertname", "KubePodCrashLooping", "namespace", "recommendations", "pod", crashPods[i%2], "container", "recommendations-api",
					"severity", "warning", "job", "kube-state-metrics", "prometheus", "monitoring/k8s")
			}, func() float64 { return 1 })},
		{source: AlertSourceGrafana, rule: "HighLatencyP99", groupBy: []string{"alertname", "grafana_folder"}, repeat: alertRepeat,
			summary: "p99 latency of {{ns}}/{{label:service}} is {{value}} ms (SLO 500 ms).",
			expr:    `histogram_quantile(0.99, sum by (le, namespace, service) (rate(istio_request_duration_milliseconds_bucket{reporter="destination"}[5m])))`,
			unit:    "ms",
			episodes: flapping(9, 3, 15, func(int) map[string]string {
				return lbl("alertname", "HighLatencyP99", "grafana_folder", "Service SLOs", "namespace", "search", "service", "search-api", "severity", "warning")
			}, func() float64 { return 520 + float64(r.IntN(900)) + float64(r.IntN(10))/10 })},
		{source: AlertSourceAlertmanager, rule: "KubeNodeNotReady", groupBy: []string{"alertname", "node"}, repeat: alertRepeat,
			summary: "{{label:node}} has been unready for more than 15 minutes.",
			expr:    `kube_node_status_condition{job="kube-state-metrics",condition="Ready",status="true"} == 0`,
			runbook: "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubenodenotready",
			episodes: flapping(3, 4, 9, func(i int) map[string]string {
				return lbl("alertname", "KubeNodeNotReady", "node", fmt.Sprintf("ip-10-0-%d-%d.eu-west-1.compute.internal", 32+r.IntN(64), 4+r.IntN(250)),
					"severity", "warning", "job", "kube-state-metrics", "prometheus", "monitoring/k8s")
			}, func() float64 { return 0 })},
	}
	// The HPA maxes out at the evening peak, each day, a few times.
	hpa := alertGroup{source: AlertSourceAlertmanager, rule: "KubeHpaMaxedOut", groupBy: []string{"alertname", "namespace"}, repeat: alertRepeat,
		summary: "HPA {{ns}}/{{label:horizontalpodautoscaler}} has been running at max replicas for longer than 15 minutes.",
		expr:    `kube_horizontalpodautoscaler_status_current_replicas == kube_horizontalpodautoscaler_spec_max_replicas`,
		runbook: "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubehpamaxedout"}
	for day := range days {
		for _, hh := range []string{"18:40", "19:25", "20:10"} {
			s := at(day, hh).Add(time.Duration(r.IntN(20)) * time.Minute)
			hpa.episodes = append(hpa.episodes, alertEpisode{labels: lbl("alertname", "KubeHpaMaxedOut", "namespace", "frontend",
				"horizontalpodautoscaler", []string{"web", "mobile-bff"}[r.IntN(2)], "severity", "warning", "job", "kube-state-metrics"),
				start: s, end: s.Add(time.Duration(3+r.IntN(9))*time.Minute + time.Duration(r.IntN(60))*time.Second), value: 24})
		}
	}
	groups = append(groups, hpa,
		alertGroup{source: AlertSourceAlertmanager, rule: "KubePersistentVolumeFillingUp", groupBy: []string{"alertname", "namespace"}, repeat: alertRepeat,
			summary: "The PersistentVolume claimed by {{label:persistentvolumeclaim}} in namespace {{ns}} is only {{value}}% free.",
			expr:    `kubelet_volume_stats_available_bytes{job="kubelet"} / kubelet_volume_stats_capacity_bytes{job="kubelet"} < 0.15`,
			runbook: "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepersistentvolumefillingup",
			episodes: []alertEpisode{{labels: lbl("alertname", "KubePersistentVolumeFillingUp", "namespace", "monitoring",
				"persistentvolumeclaim", "prometheus-k8s-db-prometheus-k8s-0", "severity", "warning", "job", "kubelet"),
				start: at(0, "02:10"), end: at(0, "14:42"), value: 11.6}}},
		alertGroup{source: AlertSourceAlertmanager, rule: "CertManagerCertExpirySoon", groupBy: []string{"alertname", "namespace"}, repeat: alertRepeat,
			summary: "The certificate {{label:name}} expires in less than 21 days.",
			expr:    `avg by (exported_namespace, namespace, name) (certmanager_certificate_expiration_timestamp_seconds - time()) < (21 * 24 * 3600)`,
			runbook: "https://gitlab.com/uneeq-oss/cert-manager-mixin/-/blob/master/RUNBOOK.md#certmanagercertexpirysoon",
			episodes: []alertEpisode{{labels: lbl("alertname", "CertManagerCertExpirySoon", "namespace", "cert-manager", "exported_namespace", "checkout",
				"name", "checkout-tls", "severity", "warning", "job", "cert-manager"), start: at(0, "09:03"), end: at(1, "03:31"), value: 20.4}}},
		alertGroup{source: AlertSourceAlertmanager, rule: "KubeJobFailed", groupBy: []string{"alertname", "namespace"}, repeat: alertRepeat,
			summary: "Job {{ns}}/{{label:job_name}} failed to complete.",
			expr:    `kube_job_failed{job="kube-state-metrics"} > 0`,
			runbook: "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubejobfailed",
			episodes: []alertEpisode{{labels: lbl("alertname", "KubeJobFailed", "namespace", "batch", "job_name", "nightly-export-29369520",
				"severity", "warning", "job", "kube-state-metrics"), start: at(1, "02:17"), end: at(1, "06:40"), value: 1}}},
		alertGroup{source: AlertSourceAlertmanager, rule: "InventorySyncLagging", groupBy: []string{"alertname", "namespace"}, repeat: alertRepeat,
			summary: "Inventory sync in {{ns}} is {{value}} s behind the warehouse feed.",
			expr:    `max(inventory_sync_lag_seconds) > 300`,
			episodes: []alertEpisode{
				{labels: lbl("alertname", "InventorySyncLagging", "namespace", "inventory", "service", "inventory-api", "severity", "warning"), start: at(0, "06:55"), end: at(0, "07:48"), value: 540},
				{labels: lbl("alertname", "InventorySyncLagging", "namespace", "inventory", "service", "inventory-api", "severity", "warning"), start: at(1, "07:02"), end: at(1, "07:31"), value: 410},
			}},
		// Grafana groups by rule and folder: the two namespaces come in one
		// notification, which furrow splits.
		alertGroup{source: AlertSourceGrafana, rule: "KubeDeploymentReplicasMismatch", groupBy: []string{"alertname", "grafana_folder"}, repeat: alertRepeat,
			summary: "Deployment {{ns}}/{{label:deployment}} has not matched the expected number of replicas for longer than 15 minutes.",
			expr:    `kube_deployment_spec_replicas != kube_deployment_status_replicas_available`,
			episodes: []alertEpisode{
				{labels: lbl("alertname", "KubeDeploymentReplicasMismatch", "grafana_folder", "Kubernetes", "namespace", "cart", "deployment", "cart-api", "severity", "warning"),
					start: at(0, "15:31"), end: at(0, "15:53"), value: 2},
				{labels: lbl("alertname", "KubeDeploymentReplicasMismatch", "grafana_folder", "Kubernetes", "namespace", "orders", "deployment", "orders-api", "severity", "warning"),
					start: at(0, "15:31"), end: at(0, "15:47"), value: 1},
			}},
		// The seed's ingress 5xx: per destination namespace, code and
		// Envoy's response flag; values on either side of the rules
		// (503 without UC below 1000: no team mention; UC: the team; above
		// 1200: the SRE group too).
		alertGroup{source: AlertSourceGrafana, rule: "Ingress5xx", groupBy: []string{"alertname", "grafana_folder"}, repeat: time.Hour,
			summary: "{{value}} responses {{label:code}} ({{label:responseFlag}}) from {{ns}}/{{label:service}} in 5 minutes at the ingress gateway.",
			expr:    `sum by (namespace, service, code, responseFlag) (increase(istio_requests_total{reporter="source",source_workload="istio-ingressgateway",response_code=~"5.."}[5m]))`,
			episodes: []alertEpisode{
				{labels: ingress5xx(lbl, "checkout", "checkout-api", "503", "UF"), start: at(0, "11:21"), end: at(0, "11:43"), value: 40},
				{labels: ingress5xx(lbl, "checkout", "checkout-api", "503", "UC"), start: at(0, "19:06"), end: at(0, "19:18"), value: 220},
				{labels: ingress5xx(lbl, "cart", "cart-api", "500", "-"), start: at(1, "10:40"), end: at(1, "11:06"), value: 85},
				{labels: ingress5xx(lbl, "checkout", "checkout-api", "503", "UF"), start: at(1, "10:44"), end: at(1, "11:02"), value: 130},
				{labels: ingress5xx(lbl, "frontend", "web", "503", "UH"), start: at(1, "13:02"), end: at(1, "13:10"), value: 1320},
			}},
		// Still firing when the data set ends.
		alertGroup{source: AlertSourceGrafana, rule: "PaymentsErrorBudgetBurn", groupBy: []string{"alertname", "grafana_folder"}, repeat: time.Hour,
			summary: "{{ns}} burns its 30-day error budget {{value}}x faster than sustainable (1h window).",
			expr:    `sum(rate(istio_requests_total{destination_service_namespace="payments",response_code=~"5.."}[1h])) / sum(rate(istio_requests_total{destination_service_namespace="payments"}[1h])) / 0.001`,
			episodes: []alertEpisode{{labels: lbl("alertname", "PaymentsErrorBudgetBurn", "grafana_folder", "Service SLOs", "namespace", "payments",
				"service", "payments-api", "severity", "critical"), start: end.Add(-3*time.Hour - 50*time.Minute), value: 14.4}}},
	)
	return groups
}

func ingress5xx(lbl func(...string) map[string]string, ns, svc, code, flag string) map[string]string {
	return lbl("alertname", "Ingress5xx", "grafana_folder", "Ingress", "namespace", ns, "service", svc, "code", code, "responseFlag", flag, "severity", "critical")
}

// notifications runs the group through a sender's dispatcher until end.
func (g alertGroup) notifications(r rng, end time.Time) []alertNotification {
	var changes []time.Time
	for _, e := range g.episodes {
		changes = append(changes, e.start)
		if !e.end.IsZero() {
			changes = append(changes, e.end)
		}
	}
	sort.Slice(changes, func(i, j int) bool { return changes[i].Before(changes[j]) })
	nextChange := func(after time.Time) (time.Time, bool) {
		for _, c := range changes {
			if c.After(after) {
				return c, true
			}
		}
		return time.Time{}, false
	}
	var out []alertNotification
	var prev time.Time // the last flush; zero: no group alive
	c, ok := nextChange(time.Time{})
	if !ok {
		return nil
	}
	t := c.Add(alertGroupWait)
	for t.Before(end) {
		var firing, resolved []alertEpisode
		for _, e := range g.episodes {
			switch {
			case !e.start.After(t) && (e.end.IsZero() || e.end.After(t)):
				firing = append(firing, e)
			case !e.end.IsZero() && !e.end.After(t) && e.end.After(prev) && !e.start.After(t):
				resolved = append(resolved, e)
			}
		}
		if len(firing)+len(resolved) > 0 {
			out = append(out, g.notification(r, t, firing, resolved))
		}
		prev = t
		c, more := nextChange(t)
		switch {
		case len(firing) == 0 && !more:
			return out
		case len(firing) == 0:
			// The group is gone: the next alert starts a new one.
			t = c.Add(alertGroupWait)
		default:
			// Unchanged, the same alerts go again after the repeat
			// interval; changes go out on the next group_interval tick.
			next := t.Add(g.repeat)
			if more {
				tick := t.Add(alertGroupInterval)
				for tick.Before(c) {
					tick = tick.Add(alertGroupInterval)
				}
				if tick.Before(next) {
					next = tick
				}
			}
			t = next
		}
	}
	return out
}

// notification renders one webhook body of the group at t.
func (g alertGroup) notification(r rng, t time.Time, firing, resolved []alertEpisode) alertNotification {
	received := t.Add(time.Duration(40+r.IntN(560)) * time.Millisecond)
	status := "resolved"
	if len(firing) > 0 {
		status = "firing"
	}
	var alerts []map[string]any
	all := append(append([]alertEpisode{}, firing...), resolved...)
	for _, e := range all {
		alerts = append(alerts, g.alert(e, t))
	}
	common := commonLabels(all)
	groupLabels := map[string]string{}
	for _, k := range g.groupBy {
		if v, ok := common[k]; ok {
			groupLabels[k] = v
		}
	}
	commonAnn := map[string]string{}
	if len(all) == 1 {
		commonAnn = alerts[0]["annotations"].(map[string]string)
	}
	body := map[string]any{
		"receiver":          "furrow",
		"status":            status,
		"alerts":            alerts,
		"groupLabels":       groupLabels,
		"commonLabels":      common,
		"commonAnnotations": commonAnn,
		"truncatedAlerts":   0,
		"groupKey":          groupKey(g.groupBy, groupLabels),
	}
	if g.source == AlertSourceAlertmanager {
		body["version"] = "4"
		body["externalURL"] = "http://alertmanager.monitoring.svc:9093"
	} else {
		body["version"] = "1"
		body["orgId"] = 1
		body["externalURL"] = "https://grafana.example.com/"
		body["title"] = fmt.Sprintf("[%s:%d] %s (%s)", strings.ToUpper(status), len(firing), g.rule, groupLabels["grafana_folder"])
		if status == "resolved" {
			body["title"] = fmt.Sprintf("[RESOLVED] %s (%s)", g.rule, groupLabels["grafana_folder"])
			body["state"] = "ok"
		} else {
			body["state"] = "alerting"
		}
		body["message"] = fmt.Sprintf("**%s**\n\n%d firing, %d resolved", strings.ToUpper(status), len(firing), len(resolved))
	}
	b, err := json.MarshalIndent(body, "", "  ")
	if err != nil {
		panic(err) // maps of strings and numbers always marshal
	}
	return alertNotification{received: received, source: g.source, body: append(b, '\n')}
}

// alert renders one alert of a notification sent at t.
func (g alertGroup) alert(e alertEpisode, t time.Time) map[string]any {
	status, endsAt := "firing", "0001-01-01T00:00:00Z"
	if !e.end.IsZero() && !e.end.After(t) {
		status, endsAt = "resolved", e.end.UTC().Format(time.RFC3339Nano)
	}
	fp := model.LabelSet(toLabelSet(e.labels)).Fingerprint().String()
	ns := e.labels["namespace"]
	val := strconv.FormatFloat(e.value, 'f', -1, 64)
	summary := strings.NewReplacer("{{ns}}", ns, "{{value}}", val).Replace(g.summary)
	for k, v := range e.labels {
		summary = strings.ReplaceAll(summary, "{{label:"+k+"}}", v)
	}
	ann := map[string]string{"summary": summary}
	if g.runbook != "" {
		ann["runbook_url"] = g.runbook
	}
	a := map[string]any{
		"status": status, "labels": e.labels, "annotations": ann,
		"startsAt": e.start.UTC().Format(time.RFC3339Nano), "endsAt": endsAt, "fingerprint": fp,
	}
	if g.source == AlertSourceAlertmanager {
		ann["description"] = summary
		if e.value != 0 {
			ann["value"] = val
		}
		a["generatorURL"] = "http://prometheus-k8s-0:9090/graph?g0.expr=" + url.QueryEscape(g.expr) + "&g0.tab=1"
		return a
	}
	uid := fp[:10]
	a["generatorURL"] = "https://grafana.example.com/alerting/grafana/" + uid + "/view?orgId=1"
	a["silenceURL"] = "https://grafana.example.com/alerting/silence/new?alertmanager=grafana&matcher=__alert_rule_uid__%3D" + uid + "&orgId=1"
	a["dashboardURL"] = "https://grafana.example.com/d/furrow-service?orgId=1&var-namespace=" + url.QueryEscape(ns)
	a["panelURL"] = "https://grafana.example.com/d/furrow-service?orgId=1&var-namespace=" + url.QueryEscape(ns) + "&viewPanel=4"
	cond := 0.0
	if status == "firing" {
		cond = 1
	}
	a["values"] = map[string]float64{"A": e.value, "C": cond}
	a["valueString"] = fmt.Sprintf("[ var='A' labels={namespace=%s} value=%s ], [ var='C' labels={namespace=%s} value=%s ]",
		ns, val, ns, strconv.FormatFloat(cond, 'f', -1, 64))
	return a
}

func toLabelSet(m map[string]string) model.LabelSet {
	ls := make(model.LabelSet, len(m))
	for k, v := range m {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	return ls
}

// commonLabels are the labels all alerts share with the same value.
func commonLabels(as []alertEpisode) map[string]string {
	out := map[string]string{}
	if len(as) == 0 {
		return out
	}
	for k, v := range as[0].labels {
		same := true
		for _, a := range as[1:] {
			if a.labels[k] != v {
				same = false
				break
			}
		}
		if same {
			out[k] = v
		}
	}
	return out
}

// groupKey is Alertmanager's group key of a route matching everything.
func groupKey(by []string, labels map[string]string) string {
	parts := make([]string, 0, len(by))
	for _, k := range by {
		parts = append(parts, fmt.Sprintf("%s=%q", k, labels[k]))
	}
	return "{}:{" + strings.Join(parts, ", ") + "}"
}

// demoAlertingYAML is the alerting section of the demo's furrow.yaml: on,
// with the seed's ingress 5xx mention rules. No Slack token: `make run`
// gives one for its local stand-in of Slack (FURROW_ALERTING_SLACK_*).
const demoAlertingYAML = `# Alert delivery: the demo's alerts (alerts/, furrow alerts replay) go through it.
alerting:
  enabled: true
  default_channel: "#alerts"
  # A report per channel every 6 hours of the demo's two days (hourly
  # is the default; here it would fill the screen).
  report_interval: 6h
  routes:
    - match: '{namespace=~"payments|checkout", severity="critical"}'
      channel: "#incidents"
      continue: true
    - match: '{namespace=~"payments|checkout", severity="critical"}'
      channel: team
  mention_rules:
    # ingress 5xx: above 1200 the SRE group too; no team for 503 unless UC or >= 1000
    - match: 'Ingress5xx'
      when: ['value > 1200']
      value_ref: A
      mention: [team, '<!subteam^S0SRE|sre>']
    - match: 'Ingress5xx{code="503"}'
      unless: ['responseFlag="UC"', 'value >= 1000']
      value_ref: A
      mention: [none]
    # warnings mention the owners once fired 3 times within an hour
    - match: '{severity="warning"}'
      after: {count: 3, window: 1h}
      mention: [team]
    - match: '{severity="warning"}'
      mention: [none]
  reminders:
    - match: '{severity="critical"}'
      every: 1h
`
