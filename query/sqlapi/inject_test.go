package sqlapi

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/store"
)

// injections are shapes that try to get a write past the endpoint: comments
// and quotes hiding a ';', escapes, multi-statements, SETTINGS, EXPLAIN.
var injections = []string{
	"SELECT 1; CREATE TABLE pwned (a UInt8) ENGINE = Memory",
	"SELECT 1 -- x\n; CREATE TABLE pwned (a UInt8) ENGINE = Memory",
	"SELECT 1 # x\n; CREATE TABLE pwned (a UInt8) ENGINE = Memory",
	"SELECT 1 #!x\n; DROP TABLE t",
	"SELECT 1 // x\n; DROP TABLE t",
	"SELECT 1 /* ; */ ; DROP TABLE t",
	"SELECT 1 /* /* */ */ ; DROP TABLE t",
	"SELECT 'a'';'; DROP TABLE t",
	"SELECT `x;`; DROP TABLE t",
	"SELECT $$;$$; DROP TABLE t",
	"SELECT $a$;$b$; DROP TABLE t",
	"SELECT x'3B'; DROP TABLE t",
	"SELECT 1;\u00a0DROP TABLE t",
	"EXPLAIN AST SELECT 1; DROP TABLE t",
	"EXPLAIN AST SELECT 1 -- \n; CREATE DATABASE pwned",
	"SELECT 1 SETTINGS readonly = 0; DROP TABLE t",
	"SELECT * FROM (SELECT 1) SETTINGS readonly = 2",
	"WITH (SELECT 1) AS x SELECT x; DROP DATABASE default",
	"SELECT formatQuerySingleLine('SELECT 1; DROP TABLE t')",
	"SELECT 1 FORMAT TSV; DROP TABLE t",
	"SELECT 1 INTO OUTFILE '/tmp/furrow-pwned'",
	"SHOW TABLES; DROP TABLE t",
	"DESCRIBE t; DROP TABLE t",
	"EXISTS t; CREATE DATABASE pwned",
	"CREATE TABLE pwned (a UInt8) ENGINE = Memory",
	"CREATE DATABASE pwned",
	"DROP TABLE t",
	"INSERT INTO t VALUES (1, 'x')",
	"INSERT INTO FUNCTION file('/tmp/furrow-pwned') SELECT 1",
	"ALTER TABLE t DELETE WHERE 1",
	"SET readonly = 0",
	"SELECT * FROM system.processes",
	"SELECT query FROM system.processes",
	"SELECT * FROM merge('system', 'processes')",
	"SELECT * FROM loop(system.processes) LIMIT 1",
	"SELECT data_paths FROM system.tables",
	"SELECT * FROM system.tables",
	"SELECT COLUMNS('path') FROM system.tables",
	"SELECT t.* FROM system.tables AS t",
	"SELECT path FROM system.disks",
	"SELECT * FROM system.server_settings",
	"SELECT getServerSetting('path')",
	"SELECT addressToSymbol(toUInt64(1))",
}

// harmless are single statements that only look like injections: the ';'
// is in a comment or a string. They run and return their own rows.
var harmless = []struct{ sql, want string }{
	{"SELECT 1 -- ; CREATE TABLE pwned (a UInt8) ENGINE = Memory", "1\n"},
	{"SELECT 1 /* /* */ ; DROP TABLE t */", "1\n"},
	{"SELECT '\\'; DROP TABLE t; --'", "\\'; DROP TABLE t; --\n"},
	{"SELECT ';' -- ;\n", ";\n"},
}

// schema is what must never change: every database and table, except the
// databases of other tests, which their cleanup drops in the background
// (an Atomic database's tables go minutes later) and would make the
// snapshot move by itself.
func schema(t testing.TB, s store.Store) string {
	t.Helper()
	const mine = "(database = currentDatabase() OR database NOT LIKE 'test\\_%')"
	var out bytes.Buffer
	require.NoError(t, s.Query(context.Background(), &out,
		"SELECT database, name, engine FROM system.tables WHERE "+mine+" ORDER BY database, name", "TSV"))
	out.WriteString("--\n")
	require.NoError(t, s.Query(context.Background(), &out,
		"SELECT name FROM system.databases WHERE name = currentDatabase() OR name NOT LIKE 'test\\_%' ORDER BY name", "TSV"))
	return out.String()
}

// failMidResult leaves the engine with a query that failed part-way
// through its output, which once leaked into the next query.
func failMidResult(r *Runner) {
	_ = r.Run(context.Background(), io.Discard, "SELECT number + 7000000 FROM numbers(1100000)", TSV, nil)
	_ = r.Run(context.Background(), io.Discard, "SELECT throwIf(number = 100000, 'boom'), 'SELECT 1; CREATE DATABASE pwned' FROM numbers(200000)", TSV, nil)
}

func TestInjectionsChangeNothing(t *testing.T) {
	cfg := DefaultConfiguration()
	cfg.MaxResultRows = 1_000_000
	r, s := newTestRunner(t, cfg)
	before := schema(t, s)
	for _, q := range injections {
		t.Run(q, func(t *testing.T) {
			failMidResult(r)
			var out bytes.Buffer
			err := r.Run(context.Background(), &out, q, TSV, nil)
			require.Error(t, err, "ran: %q", out.String())
			require.Equal(t, before, schema(t, s), "the schema changed")
		})
	}
	for _, h := range harmless {
		t.Run(h.sql, func(t *testing.T) {
			failMidResult(r)
			var out bytes.Buffer
			require.NoError(t, r.Run(context.Background(), &out, h.sql, TSV, nil))
			require.Equal(t, h.want, out.String())
			require.Equal(t, before, schema(t, s), "the schema changed")
		})
	}
	// And the endpoint still answers honest queries with their own rows.
	failMidResult(r)
	var out bytes.Buffer
	require.NoError(t, r.Run(context.Background(), &out, "SELECT count() FROM t", TSV, nil))
	require.Equal(t, "10\n", out.String())
}

// FuzzRun sends arbitrary text through the endpoint, after a query that
// failed mid-result, and checks that the schema never changes.
func FuzzRun(f *testing.F) {
	for _, q := range injections {
		f.Add(q)
	}
	cfg := DefaultConfiguration()
	cfg.MaxExecutionTime = 2e9
	r, s := newTestRunner(f, cfg)
	before := schema(f, s)
	f.Fuzz(func(t *testing.T, q string) {
		failMidResult(r)
		_ = r.Run(context.Background(), io.Discard, q, TSV, nil)
		if got := schema(t, s); got != before {
			t.Fatalf("%q changed the schema:\n%s", q, got)
		}
	})
}

func TestSystemTablesAllowed(t *testing.T) {
	r, _ := newTestRunner(t, DefaultConfiguration())
	for _, q := range []string{
		"SELECT name, engine FROM system.tables WHERE database = currentDatabase()",
		"SELECT name FROM system.columns WHERE table = 't'",
		"SELECT * FROM system.one",
		"SELECT number FROM system.numbers LIMIT 1",
		"SELECT name FROM system.functions WHERE name = 'sum'",
		"SELECT name FROM system.databases",
		"SELECT table, rows FROM system.parts WHERE active",
		"SHOW TABLES FROM system",
	} {
		t.Run(q, func(t *testing.T) {
			require.NoError(t, r.Run(context.Background(), io.Discard, q, TSV, nil))
		})
	}
}
