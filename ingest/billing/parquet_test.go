package billing

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/internal/chsql"
	"github.com/furrowdev/furrow/store"
)

// toParquet writes a CSV bill as Parquet with the engine, each column
// through typed(name, expr) (expr is the column as a String).
func toParquet(t *testing.T, s store.Store, csvPath, out string, typed func(name, expr string) string) {
	t.Helper()
	names, err := header(csvPath)
	require.NoError(t, err)
	structure := make([]string, len(names))
	sel := make([]string, len(names))
	for i, n := range names {
		structure[i] = chsql.QuoteIdent(n) + " String"
		sel[i] = typed(n, chsql.QuoteIdent(n)) + " AS " + chsql.QuoteIdent(n)
	}
	require.NoError(t, s.Exec(context.Background(), "INSERT INTO FUNCTION file("+chsql.QuoteString(out)+", 'Parquet') SELECT "+strings.Join(sel, ", ")+
		" FROM file("+chsql.QuoteString(csvPath)+", 'CSVWithNames', "+chsql.QuoteString(strings.Join(structure, ", "))+")",
		store.WithSettings(map[string]string{"input_format_csv_allow_variable_number_of_columns": "1", "max_threads": "1"})))
}

func isAmount(name string) bool { return strings.HasSuffix(strings.ToLower(name), "cost") }

func isDate(name string) bool {
	l := strings.ToLower(name)
	return strings.HasSuffix(l, "date") || strings.HasSuffix(l, "periodstart") || strings.HasSuffix(l, "periodend")
}

// The Parquet flavours a bill comes in: every column a string; amounts as
// Decimal and times as timestamps (CUR 2.0, FOCUS exports); amounts as
// DOUBLE (CUR 1.0 Parquet), nullable, empty amounts NULL.
var flavours = map[string]func(name, expr string) string{
	"strings": func(_, expr string) string { return expr },
	"decimal": func(name, expr string) string {
		switch {
		case isAmount(name):
			return "toDecimal128OrNull(nullIf(" + expr + ", ''), 18)"
		case isDate(name):
			return "parseDateTime64BestEffortOrNull(nullIf(" + expr + ", ''), 3, 'UTC')"
		}
		return "nullIf(" + expr + ", '')"
	},
	"double": func(name, expr string) string {
		if isAmount(name) {
			return "toFloat64OrNull(nullIf(" + expr + ", 'NULL'))"
		}
		return expr
	},
}

// TestParquetSamples loads every shared sample as Parquet in each flavour:
// the same per-day, per-currency totals as the hand check of the CSV.
func TestParquetSamples(t *testing.T) {
	for _, tc := range sampleCases {
		for name, typed := range flavours {
			t.Run(tc.file+"/"+name, func(t *testing.T) {
				s := migrated(t)
				ctx := context.Background()
				path := filepath.Join(samples, tc.file)
				pq := filepath.Join(t.TempDir(), strings.TrimSuffix(strings.TrimSuffix(tc.file, ".gz"), ".csv")+".parquet")
				toParquet(t, s, path, pq, typed)
				rep, err := Ingest(ctx, s, []string{pq}, "test", time.Now())
				require.NoError(t, err)
				fr := rep.Files[0]
				require.Equal(t, tc.format, fr.Format)
				require.Zero(t, fr.Rejected, "%v", fr.Errors)
				require.Equal(t, handTotals(t, path, tc.day, tc.cur, tc.cost), engineTotals(t, s))
			})
		}
	}
}

// TestParquetCUR2Tags: CUR 2.0 Parquet holds resource_tags as a Map; it
// gives the same tags as the Athena columns of the same rows.
func TestParquetCUR2Tags(t *testing.T) {
	s := migrated(t)
	ctx := context.Background()
	csvPath := filepath.Join(samples, "koku_aws_2022-07-01-alt-columns.csv")
	names, err := header(csvPath)
	require.NoError(t, err)
	var pairs []string
	for _, n := range names {
		if k, ok := strings.CutPrefix(n, "resource_tags_"); ok {
			pairs = append(pairs, chsql.QuoteString(k), chsql.QuoteIdent(n))
		}
	}
	require.NotEmpty(t, pairs)
	pq := filepath.Join(t.TempDir(), "cur2.parquet")
	toParquet(t, s, csvPath, pq, func(_, expr string) string { return expr })
	// The same rows with the tag columns folded into one Map column.
	cur2 := filepath.Join(t.TempDir(), "cur2-00001.snappy.parquet")
	require.NoError(t, s.Exec(ctx, "INSERT INTO FUNCTION file("+chsql.QuoteString(cur2)+", 'Parquet') SELECT * EXCEPT (`resource_tags_.*`) "+
		", map("+strings.Join(pairs, ", ")+") AS resource_tags FROM file("+chsql.QuoteString(pq)+", 'Parquet')",
		store.WithSettings(map[string]string{"max_threads": "1", "input_format_parquet_preserve_order": "1"})))

	tags := func() string {
		var b strings.Builder
		require.NoError(t, s.Query(ctx, &b, "SELECT k, v, count(), toString(sum(billed_cost)) FROM billing_costs ARRAY JOIN mapKeys(tags) AS k, mapValues(tags) AS v GROUP BY k, v ORDER BY k, v", "TSV"))
		return b.String()
	}
	rep, err := Ingest(ctx, s, []string{csvPath}, "test", time.Now())
	require.NoError(t, err)
	require.Equal(t, CURAthena, rep.Files[0].Format)
	want := tags()
	require.NotEmpty(t, strings.TrimSpace(want))

	rep, err = Ingest(ctx, s, []string{cur2}, "test", time.Now())
	require.NoError(t, err)
	require.Equal(t, CUR2, rep.Files[0].Format)
	require.NotContains(t, rep.Files[0].Unmapped, "resource_tags")
	require.Equal(t, want, tags(), "the Map column gives the Athena columns' tags")
	require.Equal(t, handTotals(t, csvPath, "line_item_usage_start_date", "line_item_currency_code", "line_item_unblended_cost"), engineTotals(t, s))
}

// TestParquetRejects: a NaN amount and a date that does not parse are
// rejected with their row, their neighbours load; a broken file says so.
func TestParquetRejects(t *testing.T) {
	s := migrated(t)
	ctx := context.Background()
	dir := t.TempDir()
	pq := filepath.Join(dir, "bad.parquet")
	require.NoError(t, s.Exec(ctx, "INSERT INTO FUNCTION file("+chsql.QuoteString(pq)+", 'Parquet', "+
		"'`bill/PayerAccountId` String, `bill/BillingPeriodStartDate` DateTime64(3, \\'UTC\\'), `lineItem/UsageStartDate` Nullable(String), `lineItem/UnblendedCost` Nullable(Float64), `lineItem/CurrencyCode` String') VALUES "+
		"('111', '2026-11-01 00:00:00', '2026-11-02T00:00:00Z', 1.5, 'USD'), "+
		"('111', '2026-11-01 00:00:00', '2026-11-02T01:00:00Z', nan, 'USD'), "+
		"('111', '2026-11-01 00:00:00', 'yesterday', 2, 'USD'), "+
		"('111', '2026-11-01 00:00:00', NULL, NULL, 'USD'), "+
		"('111', '2026-11-01 00:00:00', '2026-11-02T03:00:00+09:00', 0.000001, 'USD')"))
	rep, err := Ingest(ctx, s, []string{pq}, "test", time.Now())
	require.NoError(t, err)
	fr := rep.Files[0]
	require.Equal(t, CUR1, fr.Format)
	require.Equal(t, int64(3), fr.Rows)
	require.Equal(t, int64(2), fr.Rejected)
	require.Equal(t, []string{"bad.parquet:2: an amount or a date does not parse", "bad.parquet:3: an amount or a date does not parse"}, fr.Errors)
	var b strings.Builder
	require.NoError(t, s.Query(ctx, &b, "SELECT toString(charge_period_start), toString(billed_cost) FROM billing_costs ORDER BY source_line", "TSV"))
	require.Equal(t, "2026-11-02 00:00:00\t1.5\n1970-01-01 00:00:00\t0\n2026-11-01 18:00:00\t0.000001\n", b.String(), "NULL is empty: a zero cost that counts; offsets go to UTC")

	broken := filepath.Join(dir, "broken.parquet")
	require.NoError(t, os.WriteFile(broken, []byte("PAR1 this is not parquet PAR1"), 0o644))
	_, err = Ingest(ctx, s, []string{broken}, "test", time.Now())
	require.Error(t, err)
}
