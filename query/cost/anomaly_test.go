package cost

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/ingest/ledger"
)

func TestJudge(t *testing.T) {
	ac := DefaultConfiguration().Anomalies
	d0 := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC) // a Monday
	flat := func(v float64) map[time.Time]float64 {
		m := map[time.Time]float64{}
		for i := 1; i <= 60; i++ {
			m[d0.AddDate(0, 0, -i)] = v + float64(i%3) // a little noise
		}
		return m
	}
	with := func(m map[time.Time]float64, v float64) map[time.Time]float64 { m[d0] = v; return m }
	mondays := func() map[time.Time]float64 {
		m := flat(100)
		for w := 1; w <= 8; w++ {
			m[d0.AddDate(0, 0, -7*w)] = 400 // a weekly batch
		}
		return m
	}
	cases := []struct {
		name string
		days map[time.Time]float64
		want bool
	}{
		{"flat", with(flat(100), 101), false},
		{"tripled", with(flat(100), 300), true},
		{"a small absolute increase is no finding", with(flat(1), 9), false},
		{"a small relative increase is no finding", with(flat(1000), 1100), false},
		{"a new series has no baseline", with(map[time.Time]float64{}, 50), false},
		{"a series with only a few days of history", with(map[time.Time]float64{d0.AddDate(0, 0, -1): 5, d0.AddDate(0, 0, -2): 5}, 50), false},
		{"a weekly batch on its weekday", with(mondays(), 410), false},
		{"a weekly batch that grew", with(mondays(), 1200), true},
		{"a drop", with(flat(100), 10), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, got := judge(ac, c.days, d0)
			require.Equal(t, c.want, got)
		})
	}
}

func TestDetectAndDrivers(t *testing.T) {
	s := migrated(t)
	ctx := context.Background()
	exec(t, s, `INSERT INTO catalog_teams VALUES (1, 't-shop', 'Shop', '', 0)`)
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var daily, hourly []string
	for i := 0; i < 30; i++ {
		d := start.AddDate(0, 0, i)
		cost := 100 + i%4
		extra := 0
		if i == 28 {
			extra = 250 // a volume left running by mistake
		}
		daily = append(daily, fmt.Sprintf("('r1', '111', '2026-11-01', '%s', 'USD', 'allocated', 'tag', 'p-shop', 't-shop', '', '', '', 'Amazon EC2', '', '', '', 'Usage', %d, %d)",
			d.Format("2006-01-02"), cost+extra, cost+extra))
		hourly = append(hourly, fmt.Sprintf("('r1', '111', '2026-11-01', '%s', '%s', 'USD', 'allocated', 'tag', 'p-shop', 't-shop', '', '', '', 'Amazon EC2', '', '', 'BoxUsage', 'Usage', 'i-1', 1, %d, %d)",
			d.Format("2006-01-02")+" 10:00:00", d.Format("2006-01-02")+" 11:00:00", cost, cost))
		if extra > 0 {
			hourly = append(hourly, fmt.Sprintf("('r1', '111', '2026-11-01', '%s', '%s', 'USD', 'allocated', 'tag', 'p-shop', 't-shop', '', '', '', 'Amazon EC2', '', '', 'EBS:VolumeUsage.io2', 'Usage', 'vol-9', 2, %d, %d)",
				d.Format("2006-01-02")+" 10:00:00", d.Format("2006-01-02")+" 11:00:00", extra, extra))
		}
	}
	exec(t, s, "INSERT INTO cost_allocation_daily VALUES "+strings.Join(daily, ", "))
	exec(t, s, "INSERT INTO cost_allocation VALUES "+strings.Join(hourly, ", "))
	_, err := ledger.New(s, LedgerKind, "").ReplacePeriod(ctx, ledger.Period{Period: "111/2026-11-01", ID: "r1", URL: "d1", Version: time.Now()}, time.Now())
	require.NoError(t, err)

	r := NewReports(s, DefaultConfiguration())
	now := time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC)
	found, err := r.Detect(ctx, now)
	require.NoError(t, err)
	require.Len(t, found, 1)
	require.Equal(t, "2026-11-29", found[0].Day.Format("2006-01-02"))
	require.Equal(t, "t-shop", found[0].Team)

	// Detecting again replaces, never adds.
	_, err = r.Detect(ctx, now)
	require.NoError(t, err)
	list, err := r.Anomalies(ctx, time.Time{}, time.Time{})
	require.NoError(t, err)
	require.Len(t, list.Rows, 1)
	require.Equal(t, "Shop", column(t, list, "team_name")[0])

	drivers, err := r.Drivers(ctx, found[0].Day, "t-shop", "p-shop", "Amazon EC2", "USD", 5)
	require.NoError(t, err)
	require.Equal(t, "vol-9", column(t, drivers, "resource_id")[0])
	require.Equal(t, "250", column(t, drivers, "increase")[0])
}
