package chsql_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/furrowdev/furrow/internal/chsql"
	"github.com/furrowdev/furrow/internal/testenv/chtest"
)

// TestAgreesWithEngine compares the lexer's verdict with ClickHouse's own
// parser (formatQuerySingleLine refuses multi-statements): whenever the
// engine sees two statements, the lexer must too, or a check built on it
// could be walked around.
func TestAgreesWithEngine(t *testing.T) {
	s := chtest.Store(t)
	shapes := []string{
		"SELECT 1", "SELECT 1;", "SELECT 1; SELECT 2", "SELECT 1 -- ;\n; SELECT 2", "SELECT 1 -- ; SELECT 2",
		"SELECT 1 // ; SELECT 2", "SELECT 1 # ; SELECT 2", "SELECT 1 #!; SELECT 2", "SELECT 1 /* ; */; SELECT 2",
		"SELECT 1 /* /* ; */ ; */ ; SELECT 2", "SELECT 1 /* /* ; */ ; */", "SELECT ';'; SELECT 2",
		`SELECT '\'; SELECT 2; --'`, `SELECT 'a''; SELECT 2'`, "SELECT `a;`; SELECT 2", `SELECT "a;"; SELECT 2`,
		"SELECT $$;$$; SELECT 2", "SELECT $x$ ; $x$", "SELECT $x$;$y$; SELECT 2", "SELECT x'41'; SELECT 2",
		"SELECT b'01'; SELECT 2", "SELECT 1;\u00a0", "SELECT 1;\u3000SELECT 2", "SELECT 1 -- x\r; SELECT 2",
		"SELECT 1e-5; SELECT 2", "SELECT tuple(1).1; SELECT 2", "SELECT 1;;", "SELECT 1;; SELECT 2",
		"SELECT 0x1F; SELECT 2", "SELECT 1_000; SELECT 2", "SELECT 'a\\\\'; SELECT 2", "SELECT `a``b`; SELECT 2",
	}
	for _, q := range shapes {
		lexMulti := chsql.OneStatement(q) != nil
		var out bytes.Buffer
		err := s.Query(context.Background(), &out, "SELECT formatQuerySingleLine("+chsql.QuoteString(q)+")", "TSVRaw")
		engineMulti := err != nil && strings.Contains(err.Error(), "Multi-statements are not allowed")
		if engineMulti && !lexMulti {
			t.Errorf("%q: the engine sees several statements, the lexer one", q)
		}
		if lexMulti && err == nil {
			t.Errorf("%q: the lexer sees several statements, the engine parsed one: %q", q, out.String())
		}
	}
}
