package datasource

import (
	"strings"
	"testing"
	"time"

	"github.com/furrowdev/furrow/query/deploys"
)

// TestDeployParams: the panel's model becomes query/deploys' parameters
// (defaults, lists, All), and what it refuses.
func TestDeployParams(t *testing.T) {
	tr := TimeRange{From: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)}
	p, err := deployParams(Query{Project: "shop, api", Environment: allValue, By: "project,environment", Within: "48h"}, tr)
	if err != nil {
		t.Fatal(err)
	}
	if p.Metric != deploys.DeploysPerPeriod || p.Period != "day" || strings.Join(p.Project, "|") != "shop|api" || p.Environment != nil ||
		strings.Join(p.By, "|") != "project|environment" || p.Within != 48*time.Hour {
		t.Errorf("%+v", p)
	}
	for _, c := range []struct {
		q    Query
		tr   TimeRange
		want string
	}{
		{Query{Metric: "mttr"}, tr, `metric "mttr"`},
		{Query{Metric: "duration", By: "cluster"}, tr, `by "cluster"`},
		{Query{Granularity: "month"}, tr, `period "month"`},
		{Query{Metric: "change_failure_rate", Within: "a day"}, tr, `within "a day"`},
		{Query{}, TimeRange{}, "time range"},
	} {
		_, err := deployParams(c.q, c.tr)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error with %q", c.q, err, c.want)
		}
	}
}
