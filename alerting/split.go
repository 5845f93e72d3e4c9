package alerting

// Split: one group per (namespace, alert name) of a notification, so that
// each Slack message is about one namespace and one kind of alert even when
// the sender grouped across namespaces.

import (
	"sort"
	"strings"

	"github.com/furrowdev/furrow/store"
)

// DefaultNamespaceLabels are the labels a namespace is read from, first
// present wins: kube-state-metrics' own, the one Prometheus renames it to
// when the scraped target has one too, and the OpenTelemetry names.
var DefaultNamespaceLabels = []string{"namespace", "exported_namespace", "kubernetes_namespace", "k8s_namespace_name"}

// Split groups the alerts of n by namespace and alert name. The namespace
// is the first of namespaceLabels (nil: DefaultNamespaceLabels) an alert
// has, "" when none (the default route). Groups come sorted by namespace
// then alert name, their alerts by fingerprint.
func Split(n Notification, namespaceLabels []string) []Group {
	if namespaceLabels == nil {
		namespaceLabels = DefaultNamespaceLabels
	}
	type gk struct{ ns, name string }
	byKey := map[gk]*Group{}
	for _, a := range n.Alerts {
		k := gk{Namespace(a, namespaceLabels), AlertName(n, a)}
		g := byKey[k]
		if g == nil {
			g = &Group{
				Key:         GroupKey(n.Source, n.Receiver, k.ns, k.name),
				Source:      n.Source,
				Namespace:   k.ns,
				AlertName:   k.name,
				Status:      StatusResolved,
				ExternalURL: n.ExternalURL,
			}
			byKey[k] = g
		}
		g.Alerts = append(g.Alerts, a)
		if a.Status == StatusFiring {
			g.Status = StatusFiring
		}
	}
	groups := make([]Group, 0, len(byKey))
	for _, g := range byKey {
		sort.SliceStable(g.Alerts, func(i, j int) bool { return g.Alerts[i].Fingerprint < g.Alerts[j].Fingerprint })
		groups = append(groups, *g)
	}
	sort.Slice(groups, func(i, j int) bool {
		if groups[i].Namespace != groups[j].Namespace {
			return groups[i].Namespace < groups[j].Namespace
		}
		return groups[i].AlertName < groups[j].AlertName
	})
	return groups
}

// Namespace is the value of the first of labels the alert has with a
// non-empty value (an empty label is an absent one in Prometheus), "" when
// none.
func Namespace(a Alert, labels []string) string {
	for _, l := range labels {
		if v := a.Labels[l]; v != "" {
			return v
		}
	}
	return ""
}

// AlertName is what an alert is grouped by: its alertname label; else the
// rule title Grafana puts in __alert_rule_title__ or, for its
// DatasourceNoData/DatasourceError alerts, rulename; else the
// notification's alertname (common, then group labels); else its title
// without the "[FIRING:n]"/"[RESOLVED]" prefix; else "".
func AlertName(n Notification, a Alert) string {
	for _, v := range []string{
		a.Labels["alertname"], a.Labels["__alert_rule_title__"], a.Labels["rulename"],
		n.CommonLabels["alertname"], n.GroupLabels["alertname"],
	} {
		if v != "" {
			return v
		}
	}
	return titleName(n.Title)
}

// titleName strips Grafana's state prefix from a notification title.
func titleName(title string) string {
	t := strings.TrimSpace(title)
	if strings.HasPrefix(t, "[") {
		if i := strings.Index(t, "]"); i >= 0 {
			t = strings.TrimSpace(t[i+1:])
		}
	}
	return t
}

// GroupKey identifies a group across notifications: the first 16 bytes of
// the SHA-256 of source, receiver, namespace and alert name, in hex. Each
// part is length-prefixed so that no two tuples share a key.
func GroupKey(source, receiver, namespace, alertname string) string {
	return store.Token(source, receiver, namespace, alertname)[:32]
}
