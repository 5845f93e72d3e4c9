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

// TestQuoteRoundTrip has the engine read quoted values back: each literal
// and identifier must name exactly the bytes it was made from.
func TestQuoteRoundTrip(t *testing.T) {
	s := chtest.Store(t)
	ctx := context.Background()
	values := []string{"plain", "", "a'b", "a`b", `a\b`, `a\'`, `\`, "a\tb\nc", "zoné", "a\xffb", "'); DROP TABLE x; --"}
	for _, v := range values {
		var out bytes.Buffer
		q := "SELECT hex(" + chsql.QuoteString(v) + "), hex(arrayJoin(" + chsql.QuoteStrings([]string{v, v}) + "))"
		if err := s.Query(ctx, &out, q, "TSVRaw"); err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		want := strings.ToUpper(hexString(v))
		line := want + "\t" + want + "\n"
		if out.String() != line+line {
			t.Errorf("%q: engine read %q, want %q", v, out.String(), line+line)
		}
	}
	// Identifiers: one column per value (an empty name is not one), read
	// back from system.columns in their order.
	var cols, want []string
	for _, v := range values {
		if v != "" {
			cols = append(cols, chsql.QuoteIdent(v)+" UInt8")
			want = append(want, strings.ToUpper(hexString(v)))
		}
	}
	if err := s.Exec(ctx, "CREATE TABLE quoted ("+strings.Join(cols, ", ")+") ENGINE = Memory"); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := s.Query(ctx, &out, "SELECT hex(name) FROM system.columns WHERE database = currentDatabase() AND table = 'quoted' ORDER BY position", "TSVRaw"); err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(out.String()); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("column names: engine read %v, want %v", got, want)
	}
}

func hexString(s string) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		b = append(b, digits[s[i]>>4], digits[s[i]&15])
	}
	return string(b)
}
