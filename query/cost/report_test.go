package cost

import (
	"bytes"
	"context"
	"encoding/json"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// column returns the cells of column name.
func column(t *testing.T, tb Table, name string) []string {
	t.Helper()
	for i, c := range tb.Columns {
		if c == name {
			out := make([]string, len(tb.Rows))
			for j, r := range tb.Rows {
				out[j] = r[i]
			}
			return out
		}
	}
	t.Fatalf("no column %q in %v", name, tb.Columns)
	return nil
}

func sumRat(t *testing.T, cells []string) *big.Rat {
	s := new(big.Rat)
	for _, c := range cells {
		s.Add(s, rat(t, c))
	}
	return s
}

func TestReports(t *testing.T) {
	s := migrated(t)
	ctx := context.Background()
	fixture(t, s, "d1", "0.192")
	a := NewAllocator(s, DefaultConfiguration())
	rep, err := a.Allocate(ctx, []Period{{Account: "111", Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}})
	require.NoError(t, err)
	bill := rat(t, rep.Periods[0].Bill["USD"])
	r := NewReports(s, DefaultConfiguration())

	cases := []struct {
		name string
		q    Query
	}{
		{"total", Query{Currency: "USD"}},
		{"team", Query{By: []string{"team"}, Currency: "USD"}},
		{"team apart", Query{By: []string{"team"}, Currency: "USD", Shared: "apart"}},
		{"team project namespace", Query{By: []string{"team", "project", "namespace"}, Currency: "USD"}},
		{"workload effective", Query{By: []string{"workload"}, Currency: "USD", Metric: "effective"}},
		{"service by day", Query{By: []string{"service"}, Granularity: "day", Currency: "USD"}},
		{"account region usage type hourly", Query{By: []string{"account", "region", "usage_type"}, Granularity: "hour", Currency: "USD"}},
		{"a range that is not whole days", Query{By: []string{"team"}, Currency: "USD", From: time.Date(2026, 10, 31, 12, 0, 0, 0, time.UTC)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tb, err := r.Breakdown(ctx, c.q)
			require.NoError(t, err)
			got := sumRat(t, column(t, tb, "cost"))
			if c.q.Metric == "effective" {
				return // the effective total differs from the billed one by design
			}
			// Spreading divides in Decimal: at most 1e-12 per row off.
			diff := new(big.Rat).Sub(got, bill)
			require.True(t, new(big.Rat).Abs(diff).Cmp(big.NewRat(1, 1_000_000_000)) < 0, "%s: %s against the bill's %s", c.name, got.FloatString(12), bill.FloatString(12))
		})
	}

	// Shared spread: kube-system's cost moves to shop (the only owner on
	// the cluster); apart, it is its own row.
	spread, err := r.Breakdown(ctx, Query{By: []string{"team"}, Currency: "USD"})
	require.NoError(t, err)
	require.NotContains(t, column(t, spread, "kind"), "shared")
	apart, err := r.Breakdown(ctx, Query{By: []string{"team"}, Currency: "USD", Shared: "apart"})
	require.NoError(t, err)
	require.Contains(t, column(t, apart, "kind"), "shared")
	require.Contains(t, column(t, apart, "team_name"), "(idle)")
	require.Contains(t, column(t, apart, "team_name"), "(unowned)")

	// A team renamed in HR: one row of the mirror, every report follows.
	require.Contains(t, column(t, spread, "team_name"), "Shop")
	exec(t, s, `INSERT INTO catalog_teams VALUES (2, 't-shop', 'Storefront', '', 0), (2, 't-data', 'Data', '', 0), (2, 't-plat', 'Platform', '', 0)`)
	renamed, err := r.Breakdown(ctx, Query{By: []string{"team"}, Currency: "USD"})
	require.NoError(t, err)
	require.Contains(t, column(t, renamed, "team_name"), "Storefront")
	require.NotContains(t, column(t, renamed, "team_name"), "Shop")

	// The network reconciliation: the bill's cross-zone dollar, $0.40
	// attributed to namespaces, $0.60 unexplained; the traffic tables'
	// own estimate is $0.50 (the node's traffic included).
	net, err := r.Network(ctx, time.Time{}, time.Time{})
	require.NoError(t, err)
	require.Equal(t, []string{"2026-11-02"}, column(t, net, "day"))
	require.Equal(t, []string{"cross-zone"}, column(t, net, "class"))
	require.Equal(t, "1", rat(t, column(t, net, "bill")[0]).RatString())
	require.Equal(t, "0.4", rat(t, column(t, net, "attributed")[0]).FloatString(1))
	require.Equal(t, "0.6", rat(t, column(t, net, "unexplained")[0]).FloatString(1))
	require.Equal(t, []string{"yes"}, column(t, net, "adds_up"))
	require.Equal(t, "0.5", rat(t, column(t, net, "estimate")[0]).FloatString(1))

	// Month to date on the 3rd: the 1st and 2nd.
	sum, err := r.Summary(ctx, time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	require.NotEmpty(t, sum.Rows)

	// Every format renders; JSON keeps money exact.
	for _, f := range []string{FormatTable, FormatCSV, FormatJSON} {
		var b bytes.Buffer
		require.NoError(t, Render(&b, f, spread, net, sum), f)
		require.Contains(t, b.String(), "cross-zone", f)
		require.Contains(t, b.String(), "Storefront", f)
	}
	var b bytes.Buffer
	require.NoError(t, Render(&b, FormatJSON, net))
	var out map[string][]map[string]any
	dec := json.NewDecoder(&b)
	dec.UseNumber()
	require.NoError(t, dec.Decode(&out))
	require.Equal(t, json.Number("1"), out["network"][0]["bill"])
	require.Equal(t, "cross-zone", out["network"][0]["class"])

	// Bad parameters are the caller's error.
	for _, q := range []Query{{By: []string{"colour"}}, {Granularity: "week"}, {Metric: "list"}, {Shared: "some"},
		{From: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}} {
		_, err := r.Breakdown(ctx, q)
		require.ErrorIs(t, err, ErrBadRequest, "%+v", q)
	}
}

func TestMoney(t *testing.T) {
	for in, want := range map[string]string{
		"0": "0.00", "1.005": "1.01", "1.004999": "1.00", "-0.004": "0.00", "-2.5": "-2.50", "9.995": "10.00",
		"123456789.123456789012": "123456789.12", "0.000000000001": "0.00", "99.999": "100.00", "": "", "12.5%": "12.5%",
	} {
		require.Equal(t, want, money(in), in)
	}
}
