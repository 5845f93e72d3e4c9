package sqlapi

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/require"
)

func TestAllowed(t *testing.T) {
	r, _ := newTestRunner(t, DefaultConfiguration())
	cases := []struct {
		pos    string
		sql    string
		format Format
		params map[string]string
		want   string
	}{
		{here(), "SELECT a, s FROM t WHERE a < 2 ORDER BY a", TSV, nil, "0\t0\n1\t1\n"},
		{here(), "select a, s from t where a < 2 order by a desc -- newest first", CSV, nil, "1,\"1\"\n0,\"0\"\n"},
		{here(), "SELECT a FROM t WHERE a = 3", JSONEachRow, nil, "{\"a\":3}\n"},
		{here(), "/* c */ WITH 2 AS two SELECT a * two AS d FROM t ORDER BY a LIMIT 2", TSV, nil, "0\n2\n"},
		{here(), "SELECT 1 UNION ALL SELECT 2 ORDER BY 1", TSV, nil, "1\n2\n"},
		{here(), "SELECT a FROM t WHERE a < 3 INTERSECT SELECT 1", TSV, nil, "1\n"},
		{here(), "SELECT a FROM t WHERE a < 2 EXCEPT SELECT 0", TSV, nil, "1\n"},
		{here(), "SELECT count() FROM t AS x INNER JOIN (SELECT 1 AS a) AS y USING (a)", TSV, nil, "1\n"},
		{here(), "SELECT * FROM numbers(3)", TSV, nil, "0\n1\n2\n"},
		{here(), "SELECT ';' AS semi, 'INTO OUTFILE' AS o", TSV, nil, ";\tINTO OUTFILE\n"},
		{here(), "SELECT s FROM t WHERE a = {a:UInt32}", TSV, map[string]string{"a": "7"}, "7\n"},
		{here(), "SELECT {s:String} AS v", JSONEachRow, map[string]string{"s": `it's \\ "q"`}, `{"v":"it's \\ \"q\""}` + "\n"},
		{here(), "SELECT count() FROM {tbl:Identifier}", TSV, map[string]string{"tbl": "t"}, "10\n"},
		{here(), "SHOW TABLES", TSV, nil, "t\n"},
		{here(), "SHOW COLUMNS FROM t LIKE 's'", TSV, nil, "s\tString\tNO\t\t\\N\t\n"},
		{here(), "DESCRIBE t", TSV, nil, "a\tUInt32\t\t\t\t\t\ns\tString\t\t\t\t\t\n"},
		{here(), "DESC TABLE t", JSONEachRow, nil, ""},
		{here(), "EXISTS t", TSV, nil, "1\n"},
		{here(), "EXISTS TABLE nope", TSV, nil, "0\n"},
		{here(), "SHOW CREATE TABLE t", TSV, nil, ""},
		{here(), "SHOW DATABASES", TSV, nil, ""},
		{here(), "SELECT a FROM t WHERE a = 1", Pretty, nil, ""},
	}
	for _, tc := range cases {
		var buf bytes.Buffer
		err := r.Run(context.Background(), &buf, tc.sql, tc.format, tc.params)
		require.NoError(t, err, "%s: %q", tc.pos, tc.sql)
		if tc.want != "" {
			require.Equal(t, tc.want, buf.String(), "%s: %q", tc.pos, tc.sql)
		} else {
			require.NotEmpty(t, buf.String(), "%s: %q", tc.pos, tc.sql)
		}
	}
}

func TestPretty(t *testing.T) {
	r, _ := newTestRunner(t, DefaultConfiguration())
	var buf bytes.Buffer
	require.NoError(t, r.Run(context.Background(), &buf, "SELECT a, s FROM t WHERE a = 1", Pretty, nil))
	require.Contains(t, buf.String(), "a")
	require.Contains(t, buf.String(), "┃")
	require.NotContains(t, buf.String(), "\x1b[", "no terminal colours in an HTTP response")
}

func TestParquet(t *testing.T) {
	r, _ := newTestRunner(t, DefaultConfiguration())
	var buf bytes.Buffer
	require.NoError(t, r.Run(context.Background(), &buf, "SELECT a, s FROM t ORDER BY a", Parquet, nil))
	b := buf.Bytes()
	require.True(t, bytes.HasPrefix(b, []byte("PAR1")) && bytes.HasSuffix(b, []byte("PAR1")), "not a Parquet file")
	f, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
	require.NoError(t, err)
	require.EqualValues(t, 10, f.NumRows())
	var names []string
	for _, c := range f.Schema().Fields() {
		names = append(names, c.Name())
	}
	require.Equal(t, "a,s", strings.Join(names, ","))
}

func TestLimits(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		pos   string
		cfg   func(*Configuration)
		sql   string
		limit string
	}{
		{here(), func(c *Configuration) { c.MaxResultRows = 5 }, "SELECT number FROM numbers(10)", "max_result_rows"},
		{here(), func(c *Configuration) { c.MaxResultRows = 5 }, "SELECT number FROM numbers(100) UNION ALL SELECT 1", "max_result_rows"},
		{here(), func(c *Configuration) { c.MaxResultBytes = 1000 }, "SELECT repeat(toString(number), 100) FROM numbers(100)", "max_result_bytes"},
		{here(), func(c *Configuration) { c.MaxMemoryUsage = 10 << 20 }, "SELECT groupArray(number) FROM numbers(10000000)", "max_memory_usage"},
		{here(), func(c *Configuration) { c.MaxExecutionTime = 1e9 }, "SELECT count() FROM system.numbers", "max_execution_time"},
	}
	for _, tc := range cases {
		cfg := DefaultConfiguration()
		tc.cfg(&cfg)
		require.NoError(t, cfg.Validate())
		r, _ := newTestRunner(t, cfg)
		err := r.Run(ctx, &bytes.Buffer{}, tc.sql, TSV, nil)
		var le *LimitError
		require.ErrorAs(t, err, &le, "%s: %v", tc.pos, err)
		require.Equal(t, tc.limit, le.Limit, "%s: %v", tc.pos, err)
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"": TSV, "tsv": TSV, "Csv": CSV, "jsoneachrow": JSONEachRow, "PRETTY": Pretty, " parquet ": Parquet} {
		got, err := ParseFormat(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	_, err := ParseFormat("Native")
	require.ErrorIs(t, err, ErrUnknownFormat)
	require.Contains(t, err.Error(), "TSV, CSV, JSONEachRow, Pretty, Parquet")
}
