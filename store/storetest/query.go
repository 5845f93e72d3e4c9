package storetest

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/store"
)

func testParams(t *testing.T, s store.Store) {
	// Values are in the type's escaped text form, as clickhouse-client
	// --param_s=… takes them: a backslash escapes the next character.
	tests := []struct {
		name  string
		value string
		want  string
	}{
		{name: "plain", value: "hello", want: "hello"},
		{name: "single quote", value: "it's", want: "it's"},
		{name: "double quotes", value: `a "quoted" value`, want: `a "quoted" value`},
		{name: "escaped backslash", value: `back\\slash`, want: `back\slash`},
		{name: "escaped tab and quote", value: `tab\tand\'quote`, want: "tab\tand'quote"},
		{name: "SQL injection attempt", value: `'; DROP TABLE x; --`, want: `'; DROP TABLE x; --`},
		{name: "braces", value: "{s:String}", want: "{s:String}"},
		{name: "unicode", value: "한국어 ✓", want: "한국어 ✓"},
		{name: "empty", value: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := query(t, s, "SELECT hex({s:String}), {x:UInt32} + 1", "TSV",
				store.WithParams(map[string]string{"s": tt.value, "x": "41"}))
			require.Equal(t, strings.ToUpper(hex.EncodeToString([]byte(tt.want)))+"\t42\n", got)
		})
	}

	t.Run("Exec", func(t *testing.T) {
		createTable(t, s, "params", "id UInt32, v String", "id")
		require.NoError(t, s.Exec(context.Background(), "INSERT INTO params SELECT {x:UInt32}, {s:String}",
			store.WithParams(map[string]string{"x": "7", "s": "it's"})))
		require.Equal(t, "7\tit\\'s\n", query(t, s, "SELECT * FROM params", "TSV"))
	})
}

func testSettings(t *testing.T, s store.Store) {
	t.Run("applied to one query", func(t *testing.T) {
		q := "SELECT getSetting('max_block_size'), toDateTime('2026-01-02 03:04:05', 'UTC')"
		def := query(t, s, q, "TSV")
		got := query(t, s, q, "TSV", store.WithSettings(map[string]string{
			"max_block_size":          "1234",
			"date_time_output_format": "iso",
		}))
		require.Equal(t, "1234\t2026-01-02T03:04:05Z\n", got)
		require.Equal(t, def, query(t, s, q, "TSV"), "settings leaked into the next query")
	})
	t.Run("overflow throws", func(t *testing.T) {
		err := s.Query(context.Background(), io.Discard, "SELECT number FROM numbers(10)", "TSV",
			store.WithSettings(map[string]string{"max_result_rows": "1", "result_overflow_mode": "throw"}))
		requireCode(t, err, 396, "TOO_MANY_ROWS_OR_BYTES")
	})
	t.Run("with query id", func(t *testing.T) {
		got := query(t, s, "SELECT 1", "TSV", store.WithQueryID("storetest-query-id"))
		require.Equal(t, "1\n", got)
	})
}

func testErrors(t *testing.T, s store.Store) {
	ctx := context.Background()
	createTable(t, s, "errs", "id UInt32", "id")
	tests := []struct {
		name string
		run  func() error
		code int
		id   string
	}{
		{"Query, unknown table", func() error {
			return s.Query(ctx, io.Discard, "SELECT * FROM no_such_table", "TSV")
		}, 60, "UNKNOWN_TABLE"},
		{"Exec, unknown table", func() error {
			return s.Exec(ctx, "INSERT INTO no_such_table SELECT 1")
		}, 60, "UNKNOWN_TABLE"},
		{"Query, syntax error", func() error {
			return s.Query(ctx, io.Discard, "SELEC 1", "TSV")
		}, 62, "SYNTAX_ERROR"},
		{"Exec, syntax error", func() error {
			return s.Exec(ctx, "CREATE TABLE (")
		}, 62, "SYNTAX_ERROR"},
		{"unknown function", func() error {
			return s.Query(ctx, io.Discard, "SELECT no_such_function(1)", "TSV")
		}, 46, "UNKNOWN_FUNCTION"},
		{"throwIf", func() error {
			return s.Query(ctx, io.Discard, "SELECT throwIf(number = 2, 'boom') FROM numbers(5)", "TSV")
		}, 395, "FUNCTION_THROW_IF_VALUE_IS_NON_ZERO"},
		{"Insert, unknown table", func() error {
			return s.Insert(ctx, "no_such_table", typesBlock(), "")
		}, 60, "UNKNOWN_TABLE"},
		{"Insert, unknown column", func() error {
			return s.Insert(ctx, "errs", typesBlock(), "")
		}, 16, "NO_SUCH_COLUMN_IN_TABLE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { requireCode(t, tt.run(), tt.code, tt.id) })
	}
}

// requireCode checks that err is a ClickHouse error with the given code and
// name.
func requireCode(t *testing.T, err error, code int, name string) {
	t.Helper()
	var se *store.Error
	require.ErrorAs(t, err, &se)
	require.Equal(t, code, se.Code, "error: %v", err)
	require.Equal(t, name, se.Name, "error: %v", err)
	require.NotEmpty(t, se.Message)
}

func testFormats(t *testing.T, s store.Store) {
	const q = "SELECT number AS n, toString(number) AS s FROM numbers(3)"
	lines := func(n int) func(t *testing.T, out []byte) {
		return func(t *testing.T, out []byte) {
			require.Equal(t, n, bytes.Count(out, []byte("\n")), "%q", out)
		}
	}
	validJSON := func(t *testing.T, out []byte) { require.True(t, json.Valid(out), "%s", out) }
	prefix := func(p string) func(t *testing.T, out []byte) {
		return func(t *testing.T, out []byte) { require.True(t, bytes.HasPrefix(out, []byte(p)), "%q", out) }
	}
	tests := []struct {
		format string
		check  func(t *testing.T, out []byte)
	}{
		{"TSV", lines(3)},
		{"TabSeparatedWithNames", lines(4)},
		{"CSV", func(t *testing.T, out []byte) { require.Equal(t, "0,\"0\"\n1,\"1\"\n2,\"2\"\n", string(out)) }},
		{"CSVWithNames", prefix("\"n\",\"s\"\n")},
		{"JSONEachRow", func(t *testing.T, out []byte) {
			for _, l := range bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n")) {
				validJSON(t, l)
			}
			lines(3)(t, out)
		}},
		{"JSON", validJSON},
		{"JSONCompact", validJSON},
		{"Pretty", func(t *testing.T, out []byte) { require.Contains(t, string(out), "n") }},
		{"PrettyCompact", func(t *testing.T, out []byte) { require.Contains(t, string(out), "s") }},
		{"Markdown", prefix("| n | s |")},
		{"Values", func(t *testing.T, out []byte) { require.Equal(t, "(0,'0'),(1,'1'),(2,'2')", string(out)) }},
		{"XML", prefix("<?xml")},
		{"Parquet", func(t *testing.T, out []byte) {
			require.True(t, bytes.HasPrefix(out, []byte("PAR1")) && bytes.HasSuffix(out, []byte("PAR1")), "not Parquet")
		}},
		{"Arrow", prefix("ARROW1")},
		{"ArrowStream", func(t *testing.T, out []byte) { require.NotEmpty(t, out) }},
		{"Native", func(t *testing.T, out []byte) { require.NotEmpty(t, out) }},
		// RowBinary: three UInt64 (8 bytes) and three one-byte strings.
		{"RowBinary", func(t *testing.T, out []byte) { require.Len(t, out, 3*(8+1+1)) }},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			out := query(t, s, q, tt.format)
			require.NotEmpty(t, out)
			tt.check(t, []byte(out))
		})
	}
	// An empty result keeps its format's frame (the embedded engine's
	// streaming path once failed JSON with "No active streaming query").
	t.Run("empty result", func(t *testing.T) {
		const empty = "SELECT number AS n FROM numbers(3) WHERE n > 5"
		var rows struct {
			Meta []struct{ Name string } `json:"meta"`
			Rows *int                    `json:"rows"`
		}
		require.NoError(t, json.Unmarshal([]byte(query(t, s, empty, "JSON")), &rows))
		require.Len(t, rows.Meta, 1)
		require.NotNil(t, rows.Rows)
		require.Equal(t, 0, *rows.Rows)
		require.Equal(t, "n\n", query(t, s, empty, "TSVWithNames"))
		require.Equal(t, "", query(t, s, empty, "TSV"))
	})
	t.Run("unknown format", func(t *testing.T) {
		err := s.Query(context.Background(), io.Discard, q, "NoSuchFormat")
		require.Error(t, err)
		var se *store.Error
		if errors.As(err, &se) {
			require.Equal(t, 73, se.Code, "UNKNOWN_FORMAT: %v", err)
		}
	})
}
