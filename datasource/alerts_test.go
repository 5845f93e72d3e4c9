package datasource

import (
	"strings"
	"testing"
	"time"
)

// TestAlertFilter: All and empty select everything, lists become IN (…)
// of quoted values, "(no namespace)" selects the empty namespace, and a
// value with quotes stays one quoted value.
func TestAlertFilter(t *testing.T) {
	for _, c := range []struct {
		ns, name, want string
	}{
		{"", "", "1"},
		{allValue, allValue, "1"},
		{"payments", "", "namespace IN ('payments')"},
		{"cart,orders", "KubeJobFailed", "namespace IN ('cart', 'orders') AND alertname IN ('KubeJobFailed')"},
		{"(no namespace)", "", "namespace IN ('')"},
		{"a," + allValue, "", "1"},
		{"x') OR 1=1 --", "", `namespace IN ('x\') OR 1=1 --')`},
	} {
		got := alertFilter(Query{Namespace: c.ns, AlertName: c.name})
		if got != c.want {
			t.Errorf("namespace %q alertname %q: %s, want %s", c.ns, c.name, got, c.want)
		}
	}
}

// TestAlertsSQLRefusals: what the alerts query types refuse, with the
// reason, and the steps they choose.
func TestAlertsSQLRefusals(t *testing.T) {
	tr := TimeRange{From: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC), Interval: 30 * time.Second}
	for _, c := range []struct {
		q    Query
		tr   TimeRange
		want string
	}{
		{Query{By: "team"}, tr, `by "team"`},
		{Query{Metric: "cost"}, tr, `metric "cost"`},
		{Query{Metric: "resolve_time", Format: "time_series"}, tr, "resolve_time is a table"},
		{Query{Granularity: "month"}, tr, `granularity "month"`},
		{Query{}, TimeRange{}, "time range"},
	} {
		_, err := alertsSQL(c.q, c.tr)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error with %q", c.q, err, c.want)
		}
	}
	for _, c := range []struct {
		q    Query
		tr   TimeRange
		want int64
	}{
		{Query{}, TimeRange{From: tr.From, To: tr.From.Add(time.Hour), Interval: 30 * time.Second}, 60}, // at least a minute
		{Query{}, tr, 87}, // a minute over two days is 2,880 steps: widened to 2,000
		{Query{Granularity: "hour"}, tr, 3600},
		{Query{Granularity: "day"}, tr, 86400},
		{Query{}, TimeRange{From: tr.From, To: tr.From.Add(30 * 24 * time.Hour), Interval: time.Second}, 1296}, // at most 2,000 steps
	} {
		got, err := alertStep(c.q, c.tr)
		if err != nil || got != c.want {
			t.Errorf("%+v over %s: step %d (%v), want %d", c.q, c.tr.To.Sub(c.tr.From), got, err, c.want)
		}
	}
}
