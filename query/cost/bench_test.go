package cost

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/furrowdev/furrow/ingest/ledger"
	"github.com/furrowdev/furrow/store"
)

func benchEnvInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// BenchmarkCostByTeam: a year of allocated cost (12 billing periods), as
// the daily rollup of 10M line items a month holds it
// (FURROW_BENCH_COST_DAILY_ROWS rows a month, default 500k: 200 teams
// owning 600 projects in 4 clusters, 900 namespaces, 2,000 workloads, 40
// services, 3 accounts), and one month of 10M hourly
// allocation rows (FURROW_BENCH_COST_HOURLY_ROWS) for the baseline: the
// same report read from the rows the rollup is made of. Target: cost by
// team for 12 months < 500 ms.
func BenchmarkCostByTeam(b *testing.B) {
	s := migrated(&testing.T{})
	ctx := context.Background()
	daily := benchEnvInt(b, "FURROW_BENCH_COST_DAILY_ROWS", 500_000)
	hourly := benchEnvInt(b, "FURROW_BENCH_COST_HOURLY_ROWS", 10_000_000)
	first := time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)
	l := ledger.New(s, LedgerKind, "")
	start := time.Now()
	exec := func(q string, p map[string]string) {
		if err := s.Exec(ctx, q, store.WithParams(p), store.WithSettings(map[string]string{"max_insert_threads": "2"})); err != nil {
			b.Fatal(err)
		}
	}
	for m := range 12 {
		period := first.AddDate(0, m, 0)
		for acct := range 3 {
			a := fmt.Sprintf("10000000000%d", acct)
			p := map[string]string{"a": a, "p": period.Format("2006-01-02 15:04:05"), "n": strconv.Itoa(daily / 3),
				"days": strconv.Itoa(int(period.AddDate(0, 1, 0).Sub(period).Hours() / 24))}
			exec(`INSERT INTO cost_allocation_daily SELECT 'r1', {a:String}, {p:DateTime('UTC')}, toDate({p:DateTime('UTC')}) + number % {days:UInt32},
  'USD', ['allocated', 'allocated', 'allocated', 'allocated', 'idle', 'shared', 'unowned'][number % 7 + 1], 'node',
  if(number % 7 < 4 OR number % 7 = 5, concat('p', toString(number % 600)), ''), if(number % 7 < 4 OR number % 7 = 5, concat('t', toString(number % 600 % 200)), ''), concat('c', toString(number % 600 % 4)),
  concat('ns', toString(number % 900)), concat('w', toString(number % 2000)), concat('svc', toString(number % 40)), {a:String}, 'eu-west-1',
  concat('u', toString(number % 30)), 'Usage', toDecimal128(number % 997, 12) / 100, toDecimal128(number % 991, 12) / 100
FROM numbers({n:UInt64})`, p)
			if _, err := l.ReplacePeriod(ctx, ledger.Period{Period: a + "/" + period.Format("2006-01-02"), ID: "r1", Version: start}, start); err != nil {
				b.Fatal(err)
			}
		}
	}
	// The owners' rollup, as each run writes it (ownerDailySQL).
	exec(`INSERT INTO cost_allocation_owner_daily SELECT run, billing_account_id, billing_period_start, day, billing_currency, kind, cluster, team, project,
  sum(billed_cost), sum(effective_cost) FROM cost_allocation_daily GROUP BY ALL`, nil)
	last := first.AddDate(0, 11, 0)
	exec(`INSERT INTO cost_allocation SELECT 'r1', '100000000000', {p:DateTime('UTC')}, {p:DateTime('UTC')} + INTERVAL (number % 720) HOUR,
  {p:DateTime('UTC')} + INTERVAL (number % 720 + 1) HOUR, 'USD', ['allocated', 'allocated', 'allocated', 'allocated', 'idle', 'shared', 'unowned'][number % 7 + 1], 'node',
  if(number % 7 < 4 OR number % 7 = 5, concat('p', toString(number % 600)), ''), if(number % 7 < 4 OR number % 7 = 5, concat('t', toString(number % 600 % 200)), ''), concat('c', toString(number % 600 % 4)),
  concat('ns', toString(number % 900)), concat('w', toString(number % 2000)), concat('svc', toString(number % 40)), '100000000000', 'eu-west-1',
  concat('u', toString(number % 30)), 'Usage', concat('i-', toString(number % 50000)), number, toDecimal128(number % 997, 12) / 10000, toDecimal128(number % 991, 12) / 10000
FROM numbers({n:UInt64})`, map[string]string{"p": last.Format("2006-01-02 15:04:05"), "n": strconv.Itoa(hourly)})
	exec(`INSERT INTO catalog_teams SELECT 1, concat('t', toString(number)), concat('Team ', toString(number)), '', 0 FROM numbers(200)`, nil)
	b.Logf("loaded %d daily rows (12 months) and %d hourly rows (one month) in %s", 12*(daily/3)*3, hourly, time.Since(start).Round(time.Second))

	r := NewReports(s, DefaultConfiguration())
	year := Query{From: first, To: first.AddDate(1, 0, 0), By: []string{"team"}}
	cases := []struct {
		name string
		q    Query
	}{
		{"cost by team, 12 months (owners' daily rollup)", year},
		{"cost by team and month, 12 months (owners' daily rollup)", Query{From: year.From, To: year.To, By: []string{"team"}, Granularity: "month"}},
		{"cost by team and service, 12 months (daily rollup)", Query{From: year.From, To: year.To, By: []string{"team", "service"}, Limit: 20}},
		{"cost by team, project, namespace, last month by day (daily rollup)", Query{From: last, To: last.AddDate(0, 1, 0), By: []string{"team", "project", "namespace"}, Granularity: "day", Limit: 20}},
		{"baseline: cost by team, last month, from its hourly rows", Query{From: last.Add(time.Hour), To: last.AddDate(0, 1, 0), By: []string{"team"}}},
	}
	b.ResetTimer()
	for range b.N {
		for _, c := range cases {
			var ms []float64
			for range 5 {
				t0 := time.Now()
				if _, err := r.Breakdown(ctx, c.q); err != nil {
					b.Fatal(err)
				}
				ms = append(ms, float64(time.Since(t0).Microseconds())/1000)
			}
			sort.Float64s(ms)
			fmt.Printf("%-72s median %7.1f ms  max %7.1f ms  (target < 500 ms)\n", c.name, ms[2], ms[4])
		}
	}
}
