package cost

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzBreakdown: whatever a client puts in the parameters, the answer is a
// table or ErrBadRequest, never an engine error (a filter value reaching
// the SQL as text, a dimension that is not one).
func FuzzBreakdown(f *testing.F) {
	s := migrated(&testing.T{})
	r := NewReports(s, DefaultConfiguration())
	for _, seed := range [][]string{
		{"team", "day", "billed", "spread", "t-shop", "shop"},
		{"team,project,namespace", "hour", "effective", "apart", "", ""},
		{"colour", "week", "list", "some", "'; DROP TABLE cost_allocation --", "\\' OR 1=1"},
		{"service,region,usage_type", "", "", "", "{a:String}", "\x00\xff"},
		{"team", "month", "billed", "spread", "$__all", "namespace = 'x'"},
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3], seed[4], seed[5], int64(0))
	}
	f.Fuzz(func(t *testing.T, by, granularity, metric, shared, team, namespace string, from int64) {
		q := Query{Granularity: granularity, Metric: metric, Shared: shared, Team: team, Namespace: namespace,
			By: strings.Split(by, ","), Limit: 5}
		if from != 0 {
			q.From = time.Unix(from%4_000_000_000, 0).UTC()
		}
		_, err := r.Breakdown(context.Background(), q)
		if err != nil && !errors.Is(err, ErrBadRequest) {
			t.Fatalf("%+v: %v", q, err)
		}
	})
}
