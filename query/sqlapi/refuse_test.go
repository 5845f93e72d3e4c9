package sqlapi

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/store"
)

func TestRefused(t *testing.T) {
	r, s := newTestRunner(t, DefaultConfiguration())
	out := filepath.Join(t.TempDir(), "out")
	cases := []struct {
		pos    string
		sql    string
		reason string // a word the reason must contain
	}{
		{here(), "INSERT INTO t VALUES (99, 'x')", "INSERT"},
		{here(), "INSERT INTO t SELECT * FROM t", "INSERT"},
		{here(), "ALTER TABLE t DELETE WHERE 1", "ALTER"},
		{here(), "DELETE FROM t WHERE 1", "DELETE"},
		{here(), "DROP TABLE t", "DROP TABLE"},
		{here(), "CREATE TABLE u (a UInt8) ENGINE = Memory", "CREATE TABLE"},
		{here(), "TRUNCATE TABLE t", "TRUNCATE"},
		{here(), "RENAME TABLE t TO u", "RENAME"},
		{here(), "OPTIMIZE TABLE t", "OPTIMIZE"},
		{here(), "SYSTEM FLUSH LOGS", "SYSTEM FLUSH"},
		{here(), "KILL QUERY WHERE 1", "KILL QUERY"},
		{here(), "SET readonly = 0", "SET"},
		{here(), "GRANT SELECT ON *.* TO default", "GRANT"},
		{here(), "USE system", "USE"},
		{here(), "SHOW GRANTS", "SHOW GRANTS"},
		{here(), "SHOW PROCESSLIST", "SHOW PROCESSLIST"},
		{here(), "SELECT 1; DROP TABLE t", "multiple statements"},
		{here(), "SELECT 1; SELECT 2", "multiple statements"},
		{here(), "SELECT * FROM t SETTINGS readonly = 0", "SETTINGS"},
		{here(), "SELECT * FROM (SELECT 1 SETTINGS readonly = 0)", "SETTINGS"},
		{here(), "SELECT 1 UNION ALL SELECT 2 SETTINGS max_threads = 1", "SETTINGS"},
		{here(), "SHOW TABLES SETTINGS readonly = 0", "SETTINGS"},
		{here(), "DESCRIBE t SETTINGS readonly = 0", "SETTINGS"},
		{here(), "SELECT * FROM file('/etc/hostname', 'LineAsString')", "file()"},
		{here(), "SELECT * FROM FILE('/etc/hostname', 'LineAsString')", "FILE()"},
		{here(), "SELECT file('/etc/hostname')", "file()"},
		{here(), "SELECT * FROM url('http://127.0.0.1:1/', 'CSV', 'a String')", "url()"},
		{here(), "SELECT * FROM remote('127.0.0.1', system.one)", "remote()"},
		{here(), "DESCRIBE file('/etc/hostname', 'LineAsString')", "file()"},
		{here(), "DESCRIBE (SELECT * FROM numbers(1))", "DESCRIBE"},
		{here(), "DESCRIBE numbers(1)", "DESCRIBE"},
		{here(), "EXPLAIN SELECT 1", "EXPLAIN"},
		{here(), "EXPLAIN AST SELECT 1", "EXPLAIN"},
		{here(), "SELECT 1 FORMAT JSON", "FORMAT"},
		{here(), "SHOW TABLES FORMAT JSON", "FORMAT"},
		{here(), "SELECT 1 INTO OUTFILE '" + out + "'", "OUTFILE"},
		{here(), "SHOW TABLES INTO OUTFILE '" + out + "'", "OUTFILE"},
		{here(), "EXISTS t INTO OUTFILE '" + out + "'", "OUTFILE"},
		{here(), "DESCRIBE t INTO OUTFILE '" + out + "'", "OUTFILE"},
		{here(), "SELECT 1\x00; DROP TABLE t", "NUL"},
	}
	for _, tc := range cases {
		var buf bytes.Buffer
		err := r.Run(context.Background(), &buf, tc.sql, TSV, nil)
		var refused *RefusedError
		require.ErrorAs(t, err, &refused, "%s: %q", tc.pos, tc.sql)
		require.Contains(t, refused.Reason, tc.reason, "%s: %q", tc.pos, tc.sql)
		require.Empty(t, buf.String(), tc.pos)
	}
	_, err := os.Stat(out)
	require.ErrorIs(t, err, os.ErrNotExist, "INTO OUTFILE wrote a file")

	// Nothing was changed: t is still there with its ten rows.
	var buf bytes.Buffer
	require.NoError(t, s.Query(context.Background(), &buf, "SELECT count() FROM t", "TSV"))
	require.Equal(t, "10\n", buf.String())
}

// TestEngineReadonly checks the second line of defence: should a table
// function slip past the name check, the read-only subquery makes the engine
// refuse it, and the refusal is a *RefusedError carrying ClickHouse's code.
func TestEngineReadonly(t *testing.T) {
	r, s := newTestRunner(t, DefaultConfiguration())
	for _, q := range []string{
		"SELECT * FROM (SELECT * FROM file('/etc/hostname', 'LineAsString'))",
		"SELECT * FROM (SELECT * FROM url('http://127.0.0.1:1/', 'CSV', 'a String'))",
		"SELECT * FROM (SELECT * FROM executable('true', 'TSV', 'a String'))",
	} {
		err := r.classifyError(s.Query(context.Background(), &bytes.Buffer{}, q, "TSV",
			store.WithSettings(r.cfg.settings())))
		var refused *RefusedError
		require.ErrorAs(t, err, &refused, q)
		var se *store.Error
		require.ErrorAs(t, err, &se, q)
		require.Equal(t, store.CodeReadonly, se.Code, q)
	}
}

func TestQueryErrors(t *testing.T) {
	cfg := DefaultConfiguration()
	cfg.MaxQuerySize = 100
	r, _ := newTestRunner(t, cfg)
	ctx := context.Background()
	cases := []struct {
		pos    string
		sql    string
		format Format
		check  func(t *testing.T, err error)
	}{
		{here(), "SELEC 1", TSV, storeCode(store.CodeSyntaxError)},
		{here(), "SELECT * FROM nope", TSV, storeCode(store.CodeUnknownTable)},
		{here(), "SELECT {x:UInt32}", TSV, storeCode(store.CodeUnknownQueryParam)},
		{here(), "", TSV, is(ErrEmptyQuery)},
		{here(), "  -- just a comment\n", TSV, is(ErrEmptyQuery)},
		{here(), "SELECT 1", Format("XML"), is(ErrUnknownFormat)},
		{here(), "SELECT '" + string(bytes.Repeat([]byte("x"), 100)) + "'", TSV, limit("max_query_size")},
	}
	for _, tc := range cases {
		err := r.Run(ctx, &bytes.Buffer{}, tc.sql, tc.format, nil)
		require.Error(t, err, tc.pos)
		t.Run(tc.pos, func(t *testing.T) { tc.check(t, err) })
	}
}

func TestSyntaxErrorMessage(t *testing.T) {
	r, _ := newTestRunner(t, DefaultConfiguration())
	err := r.Run(context.Background(), &bytes.Buffer{}, "SELECT 1 +", TSV, nil)
	var se *store.Error
	require.ErrorAs(t, err, &se)
	require.Equal(t, store.CodeSyntaxError, se.Code)
	require.NotContains(t, se.Message, "formatQuerySingleLine", "the message must not show our wrapping")
	require.Contains(t, se.Message, "Syntax error")
}

func storeCode(code int) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		var se *store.Error
		require.ErrorAs(t, err, &se)
		require.Equal(t, code, se.Code, "%v", err)
	}
}

func is(target error) func(*testing.T, error) {
	return func(t *testing.T, err error) { require.True(t, errors.Is(err, target), "%v", err) }
}

func limit(name string) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		var le *LimitError
		require.ErrorAs(t, err, &le)
		require.Equal(t, name, le.Limit, "%v", err)
	}
}
