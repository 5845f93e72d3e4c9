package billing

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/internal/testenv/chtest"
	"github.com/furrowdev/furrow/migrations"
	"github.com/furrowdev/furrow/store"
)

const samples = "../../../shared/testdata/cur"

func migrated(t testing.TB) store.Store {
	t.Helper()
	s := chtest.Store(t)
	_, err := migrations.New(s, migrations.Options{}).Up(context.Background())
	require.NoError(t, err)
	return s
}

// handTotals sums a bill's cost per UTC day and currency with encoding/csv
// and exact rationals, independently of the engine: each amount cut to 12
// fractional digits as the table keeps it.
func handTotals(t *testing.T, path, dayCol, curCol, costCol string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		require.NoError(t, err)
		r = zr
	}
	b, err := io.ReadAll(r)
	require.NoError(t, err)
	b = bytes.TrimPrefix(b, []byte{0xEF, 0xBB, 0xBF})
	cr := csv.NewReader(bytes.NewReader(b))
	cr.FieldsPerRecord = -1 // koku's sample has rows one field short of the header
	recs, err := cr.ReadAll()
	require.NoError(t, err)
	idx := map[string]int{}
	for i, c := range recs[0] {
		idx[c] = i
	}
	sums := map[string]*big.Rat{}
	for _, rec := range recs[1:] {
		v := strings.TrimSpace(rec[idx[costCol]])
		if v == "" || v == "NULL" {
			v = "0"
		}
		x, ok := new(big.Rat).SetString(v)
		require.True(t, ok, v)
		// 12 fractional digits, rounded toward zero.
		scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(12), nil)
		n := new(big.Int).Quo(new(big.Int).Mul(x.Num(), scale), x.Denom())
		x = new(big.Rat).SetFrac(n, scale)
		day := strings.TrimSpace(rec[idx[dayCol]])[:10]
		key := day + " " + strings.TrimSpace(rec[idx[curCol]])
		if sums[key] == nil {
			sums[key] = new(big.Rat)
		}
		sums[key].Add(sums[key], x)
	}
	out := map[string]string{}
	for k, v := range sums {
		out[k] = v.FloatString(12)
	}
	return out
}

func engineTotals(t *testing.T, s store.Store) map[string]string {
	t.Helper()
	var b strings.Builder
	require.NoError(t, s.Query(context.Background(), &b,
		"SELECT toString(toDate(charge_period_start)), billing_currency, toString(sum(billed_cost)) FROM billing_costs GROUP BY 1, 2", "TSV"))
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		f := strings.Split(line, "\t")
		x, _ := new(big.Rat).SetString(f[2])
		out[f[0]+" "+f[1]] = x.FloatString(12)
	}
	return out
}

// sampleCases are the shared samples and the columns of their hand check.
var sampleCases = []struct {
	file, day, cur, cost string
	format               Format
}{
	{"koku_test_cur.csv", "lineItem/UsageStartDate", "lineItem/CurrencyCode", "lineItem/UnblendedCost", CUR1},
	{"koku_test_cur.csv.gz", "lineItem/UsageStartDate", "lineItem/CurrencyCode", "lineItem/UnblendedCost", CUR1},
	{"koku_aws_2023-06-01.csv", "lineItem/UsageStartDate", "lineItem/CurrencyCode", "lineItem/UnblendedCost", CUR1},
	{"koku_aws_2022-07-01-alt-columns.csv", "line_item_usage_start_date", "line_item_currency_code", "line_item_unblended_cost", CURAthena},
	{"focus-converters_sample-anonymous-aws-export-dataset.csv", "lineItem/UsageStartDate", "lineItem/CurrencyCode", "lineItem/UnblendedCost", CUR1},
	{"focus-sample-data_focus_sample.csv", "ChargePeriodStart", "BillingCurrency", "BilledCost", FOCUS},
}

// TestSamples loads each real sample and compares the per-day,
// per-currency totals with a hand check.
func TestSamples(t *testing.T) {
	for _, tc := range sampleCases {
		t.Run(tc.file, func(t *testing.T) {
			s := migrated(t)
			path := filepath.Join(samples, tc.file)
			rep, err := Ingest(context.Background(), s, []string{path}, "test", time.Now())
			require.NoError(t, err)
			require.Equal(t, tc.format, rep.Files[0].Format)
			require.Zero(t, rep.Files[0].Rejected, "%v", rep.Files[0].Errors)
			want := handTotals(t, path, tc.day, tc.cur, tc.cost)
			require.Equal(t, want, engineTotals(t, s))
			require.NotEmpty(t, rep.Periods)

			again, err := Ingest(context.Background(), s, []string{path}, "test", time.Now())
			require.NoError(t, err)
			require.True(t, again.Skipped, "the same files again change nothing")
			require.Equal(t, want, engineTotals(t, s))
		})
	}
}

// TestRestatement: a later delivery of the same (account, period) replaces
// it whole; another period of the same account is kept; a bad row is
// rejected with its line, its neighbours load.
func TestRestatement(t *testing.T) {
	s := migrated(t)
	ctx := context.Background()
	dir := t.TempDir()
	head := "identity/LineItemId,bill/PayerAccountId,bill/BillingPeriodStartDate,lineItem/UsageStartDate,lineItem/UsageEndDate,lineItem/LineItemType,lineItem/CurrencyCode,lineItem/UnblendedCost\n"
	row := func(period, day, cost string) string {
		return fmt.Sprintf("x,111,%s-01T00:00:00Z,%sT00:00:00Z,%sT01:00:00Z,Usage,USD,%s\n", period, day, day, cost)
	}
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(head+body), 0o644))
		return p
	}
	oct := write("oct.csv", row("2026-10", "2026-10-05", "5"))
	_, err := Ingest(ctx, s, []string{oct}, "test", time.Now())
	require.NoError(t, err)
	v1 := write("nov-v1.csv", row("2026-11", "2026-11-01", "1.5")+row("2026-11", "2026-11-02", "2.5"))
	_, err = Ingest(ctx, s, []string{v1}, "test", time.Now())
	require.NoError(t, err)
	total := func() string {
		var b strings.Builder
		require.NoError(t, s.Query(ctx, &b, "SELECT toString(toDate(billing_period_start)), toString(sum(billed_cost)) FROM billing_costs GROUP BY 1 ORDER BY 1", "TSV"))
		return strings.TrimSpace(b.String())
	}
	require.Equal(t, "2026-10-01\t5\n2026-11-01\t4", total())

	// The restated November: three days now, and a row that does not parse.
	v2 := write("nov-v2.csv", row("2026-11", "2026-11-01", "1.5")+row("2026-11", "2026-11-02", "2.5")+row("2026-11", "2026-11-03", "3")+row("2026-11", "2026-11-04", "lots"))
	rep, err := Ingest(ctx, s, []string{v2}, "test", time.Now())
	require.NoError(t, err)
	require.Equal(t, int64(1), rep.Files[0].Rejected)
	require.Equal(t, []string{"nov-v2.csv:5: an amount or a date does not parse"}, rep.Files[0].Errors)
	require.Equal(t, "2026-10-01\t5\n2026-11-01\t7", total(), "November replaced, October kept")
	var b strings.Builder
	require.NoError(t, s.Query(ctx, &b, "SELECT count() FROM billing_line_items", "TSV"))
	require.Equal(t, "4", strings.TrimSpace(b.String()), "the replaced delivery's rows are gone")

	// An older delivery ingested late does not win.
	_, err = Ingest(ctx, s, []string{v1, oct}, "test", time.Now().Add(-time.Hour))
	require.NoError(t, err)
	require.Equal(t, "2026-10-01\t5\n2026-11-01\t7", total())

	np := filepath.Join(dir, "notabill.csv")
	require.NoError(t, os.WriteFile(np, []byte("a,b\n1,2\n"), 0o644))
	_, err = Ingest(ctx, s, []string{np}, "test", time.Now())
	require.ErrorIs(t, err, ErrNotABill)
}

// TestHostileBills: a crash in the middle of a delivery, a corrupt gzip,
// a header without rows, a row with too many fields, a huge amount.
func TestHostileBills(t *testing.T) {
	s := migrated(t)
	ctx := context.Background()
	dir := t.TempDir()
	head := "bill/PayerAccountId,bill/BillingPeriodStartDate,lineItem/UsageStartDate,lineItem/UsageEndDate,lineItem/LineItemType,lineItem/CurrencyCode,lineItem/UnblendedCost\n"
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		return p
	}
	good := write("good.csv", head+"111,2026-11-01,2026-11-02 00:00:00,2026-11-02 01:00:00,Usage,USD,1.25\n"+
		"111,2026-11-01,2026-11-02 01:00:00,2026-11-02 02:00:00,Usage,USD,0.123456789012345678\n")

	// kill -9 during the INSERT: rows of the delivery, not recorded.
	first, err := Ingest(ctx, s, []string{good}, "test", time.Now())
	require.NoError(t, err)
	require.NoError(t, s.Exec(ctx, "DELETE FROM ingested_objects WHERE source_id = {d:String}", store.WithParams(map[string]string{"d": first.Delivery})))
	require.NoError(t, s.Exec(ctx, "INSERT INTO billing_line_items (delivery, billing_account_id, billing_period_start, billed_cost, billing_currency) VALUES ({d:String}, '111', '2026-11-01', 999, 'USD')",
		store.WithParams(map[string]string{"d": first.Delivery})))
	again, err := Ingest(ctx, s, []string{good}, "test", time.Now())
	require.NoError(t, err)
	require.False(t, again.Skipped)
	var b strings.Builder
	require.NoError(t, s.Query(ctx, &b, "SELECT toString(sum(billed_cost)), count() FROM billing_costs", "TSV"))
	require.Equal(t, "1.373456789012\t2", strings.TrimSpace(b.String()), "the interrupted delivery's rows are not counted twice; 18 digits cut to 12")

	for name, body := range map[string]string{
		"corrupt.csv.gz": "not gzip at all",
		"empty.csv":      "",
	} {
		_, err := Ingest(ctx, s, []string{write(name, body)}, "test", time.Now())
		require.Error(t, err, name)
	}
	rep, err := Ingest(ctx, s, []string{write("header-only.csv", head)}, "test", time.Now())
	require.NoError(t, err)
	require.Zero(t, rep.Files[0].Rows)
	require.Empty(t, rep.Periods, "a bill without rows replaces nothing")

	rep, err = Ingest(ctx, s, []string{write("wide.csv", head+"111,2026-10-01,2026-10-02,2026-10-02,Usage,USD,1e400\n"+
		"111,2026-10-01,2026-10-03,2026-10-03,Usage,USD,2\n")}, "test", time.Now())
	require.NoError(t, err)
	require.Equal(t, int64(1), rep.Files[0].Rejected, "an amount out of range is rejected with its line")
	require.Equal(t, int64(1), rep.Files[0].Rows)
	b.Reset()
	require.NoError(t, s.Query(ctx, &b, "SELECT toString(sum(billed_cost)) FROM billing_costs WHERE toDate(billing_period_start) = '2026-11-01'", "TSV"))
	require.Equal(t, "1.373456789012", strings.TrimSpace(b.String()), "other periods untouched")
}
