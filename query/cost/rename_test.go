package cost

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/catalog"
	"github.com/furrowdev/furrow/ingest/ledger"
	"github.com/furrowdev/furrow/state"
)

// TestRenameInHR: a team renamed in the HR export is one changed row of
// the catalog (its code stays), and every cost report shows the new name
// at once, without a new allocation.
func TestRenameInHR(t *testing.T) {
	s := migrated(t)
	ctx := context.Background()
	st, err := state.Open(ctx, state.DefaultConfiguration(), t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	cat, err := catalog.New(catalog.DefaultConfiguration(), catalog.Dependencies{State: st, Store: s, Registry: prometheus.NewRegistry()})
	require.NoError(t, err)
	require.NoError(t, cat.Start(ctx))
	t.Cleanup(func() { _ = cat.Stop(ctx) })
	hr := func(name string) {
		t.Helper()
		_, err := cat.SyncHRData(ctx, catalog.Actor{Subject: "test", Source: "hr-sync"}, false, "yaml",
			[]byte("people:\n  - {employee_id: E1, name: Ada, email: ada@example.com, team: {code: t-shop, name: "+name+"}}\n"))
		require.NoError(t, err)
	}
	hr("Shop")
	_, err = cat.PutProject(ctx, catalog.Actor{Subject: "test", Source: "api"}, catalog.Project{ID: "p-shop", Name: "Shop", OwnerTeam: "t-shop"}, 0)
	require.NoError(t, err)

	// A bill with one line item tagged with the project.
	exec(t, s, `INSERT INTO billing_line_items (delivery, provider, billing_account_id, billing_period_start, charge_period_start, charge_period_end,
		charge_category, service_name, billed_cost, effective_cost, billing_currency, tags, source_file, source_line) VALUES
		('d1', 'AWS', '111', '2026-11-01', '2026-11-02 10:00:00', '2026-11-02 11:00:00', 'Usage', 'Amazon S3', 12.5, 12.5, 'USD', map('user_project', 'p-shop'), 'b.csv', 2)`)
	_, err = ledger.New(s, "billing", "").ReplacePeriod(ctx, ledger.Period{Period: "111/2026-11-01", ID: "d1", Version: time.Now()}, time.Now())
	require.NoError(t, err)
	_, err = NewAllocator(s, DefaultConfiguration()).Allocate(ctx, []Period{{Account: "111", Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}})
	require.NoError(t, err)
	r := NewReports(s, DefaultConfiguration())
	names := func() []string {
		tb, err := r.Breakdown(ctx, Query{By: []string{"team"}})
		require.NoError(t, err)
		return column(t, tb, "team_name")
	}
	require.Equal(t, []string{"Shop"}, names())

	hr("Storefront")
	teams, err := cat.Teams(ctx, true)
	require.NoError(t, err)
	require.Len(t, teams, 1, "a rename is the same team")
	require.Equal(t, []string{"Storefront"}, names())
	sum, err := r.Summary(ctx, time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	require.Equal(t, []string{"Storefront"}, column(t, sum, "owner"))
}
