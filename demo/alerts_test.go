package demo

import (
	"strings"
	"testing"
	"time"

	"github.com/furrowdev/furrow/alerting"
	"github.com/furrowdev/furrow/config"
)

// TestAlertPayloads decodes every demo notification with furrow's own
// decoders and checks that the data set holds what its dashboards and the
// demo show: noisy, quick, long and still-firing alerts, the ingress 5xx
// labels, a notification spanning namespaces, alerts without a namespace.
func TestAlertPayloads(t *testing.T) {
	d, err := prepare(Options{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	ns := d.alertNotifications()
	if len(ns) < 50 {
		t.Fatalf("%d notifications, want a realistic two days' worth", len(ns))
	}
	known := map[string]bool{}
	for _, w := range workloads() {
		known[w.NS] = true
	}
	for _, team := range demoTeams {
		for _, p := range team.projects {
			for _, n := range p.namespaces {
				known[n] = true
			}
		}
	}

	type episode struct {
		ns, name     string
		start, end   time.Time
		lastStatus   string
		fires, sends int
	}
	episodes := map[string]*episode{} // fingerprint + start
	perName := map[string]map[time.Time]bool{}
	var multiNamespace, noNamespace, ingress int
	var prev time.Time
	for i, n := range ns {
		if n.received.Before(prev) {
			t.Fatalf("notification %d received before the previous one", i)
		}
		prev = n.received
		if n.received.Before(d.o.Start) || !n.received.Before(d.o.end()) {
			t.Fatalf("notification %d received at %s, outside the data set", i, n.received)
		}
		name := AlertFileName(n.received, n.source, i+1)
		at, src, ok := ParseAlertFileName("alerts/" + name)
		if !ok || !at.Equal(n.received.Truncate(time.Millisecond)) || src != n.source {
			t.Fatalf("%s reads back as %s %s %v", name, at, src, ok)
		}
		var note alerting.Notification
		switch n.source {
		case AlertSourceAlertmanager:
			note, err = alerting.DecodeAlertmanager(n.body)
		case AlertSourceGrafana:
			note, err = alerting.DecodeGrafana(n.body)
		default:
			t.Fatalf("%s: source %q", name, n.source)
		}
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, n.body)
		}
		wantVersion := map[string]string{AlertSourceAlertmanager: "4", AlertSourceGrafana: "1"}[n.source]
		if note.Version != wantVersion {
			t.Errorf("%s: version %q, want %q", name, note.Version, wantVersion)
		}
		groups := alerting.Split(note, alerting.DefaultConfiguration().NamespaceLabels)
		if len(groups) > 1 {
			multiNamespace++
		}
		for _, g := range groups {
			if g.Namespace == "" {
				noNamespace++
			} else if !known[g.Namespace] {
				t.Errorf("%s: namespace %q is not the demo's", name, g.Namespace)
			}
			for _, a := range g.Alerts {
				if a.Labels["cluster"] != ClusterName {
					t.Errorf("%s: cluster %q", name, a.Labels["cluster"])
				}
				if g.AlertName == "Ingress5xx" {
					ingress++
					if a.Labels["code"] == "" || a.Labels["responseFlag"] == "" || a.Values["A"] == 0 {
						t.Errorf("%s: ingress 5xx without code, responseFlag or value: %+v", name, a)
					}
				}
				if a.StartsAt.IsZero() || a.StartsAt.After(n.received) {
					t.Errorf("%s: startsAt %s", name, a.StartsAt)
				}
				key := a.Fingerprint + a.StartsAt.String()
				e := episodes[key]
				if e == nil {
					e = &episode{ns: g.Namespace, name: g.AlertName, start: a.StartsAt}
					episodes[key] = e
					if perName[g.AlertName] == nil {
						perName[g.AlertName] = map[time.Time]bool{}
					}
					perName[g.AlertName][a.StartsAt] = true
				}
				if e.lastStatus == alerting.StatusResolved {
					t.Errorf("%s: %s/%s sent again after its resolve", name, g.Namespace, g.AlertName)
				}
				e.lastStatus, e.end = a.Status, a.EndsAt
				e.sends++
				if a.Status == alerting.StatusFiring {
					e.fires++
				}
			}
		}
	}
	if multiNamespace == 0 || noNamespace == 0 || ingress == 0 {
		t.Errorf("notifications spanning namespaces: %d, groups without a namespace: %d, ingress 5xx alerts: %d; want some of each", multiNamespace, noNamespace, ingress)
	}
	var firing []string
	var quick, long, repeated int
	for _, e := range episodes {
		switch {
		case e.lastStatus == alerting.StatusFiring:
			firing = append(firing, e.ns+"/"+e.name)
		case e.end.Sub(e.start) < 15*time.Minute:
			quick++
		case e.end.Sub(e.start) > 6*time.Hour:
			long++
		}
		if e.fires > 1 {
			repeated++
		}
	}
	t.Logf("%d notifications, %d episodes (%d quick, %d long), %d spanning namespaces", len(ns), len(episodes), quick, long, multiNamespace)
	if len(firing) != 1 || firing[0] != "payments/PaymentsErrorBudgetBurn" {
		t.Errorf("still firing at the end: %v, want payments/PaymentsErrorBudgetBurn alone", firing)
	}
	if quick < 10 || long < 2 || repeated == 0 {
		t.Errorf("episodes resolved within 15 min: %d, longer than 6 h: %d, sent firing more than once: %d", quick, long, repeated)
	}
	if n := len(perName["KubePodCrashLooping"]); n < 10 {
		t.Errorf("KubePodCrashLooping fired %d times, want a noisy alert", n)
	}
}

// TestAlertingConfig checks the demo's alerting section is one furrow
// accepts: on, its rules compiling.
func TestAlertingConfig(t *testing.T) {
	var cfg struct {
		Alerting alerting.Configuration `yaml:"alerting"`
	}
	cfg.Alerting = alerting.DefaultConfiguration()
	if err := config.Decode(strings.NewReader(demoAlertingYAML), &cfg); err != nil {
		t.Fatal(err)
	}
	if !cfg.Alerting.Enabled {
		t.Error("alerting is not enabled")
	}
	if err := cfg.Alerting.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestParseAlertFileName(t *testing.T) {
	for _, c := range []struct {
		name string
		ok   bool
	}{
		{"20261101T021030.412Z_alertmanager_0007.json", true},
		{"dir/20261101T021030.412Z_grafana_0001.json", true},
		{"20261101T021030.412Z_slack_0001.json", false},
		{"20261101T0210Z_grafana_0001.json", false},
		{"20261101T021030.412Z_grafana_0001.yaml", false},
		{"payload.json", false},
		{"", false},
	} {
		_, _, ok := ParseAlertFileName(c.name)
		if ok != c.ok {
			t.Errorf("%q: ok %v, want %v", c.name, ok, c.ok)
		}
	}
}
