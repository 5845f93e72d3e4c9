package chsql

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestOneStatement(t *testing.T) {
	cases := []struct {
		q     string
		multi bool
	}{
		{"SELECT 1", false},
		{"SELECT 1;", false},
		{"SELECT 1 ;  -- done\n", false},
		{"SELECT 1;;", false},
		{"SELECT 1; SELECT 2", true},
		{"SELECT 1 -- ; DROP TABLE t", false},
		{"SELECT 1 -- ;\n; DROP TABLE t", true},
		{"SELECT 1 // ; DROP TABLE t", false},
		{"SELECT 1 # ; DROP TABLE t", false},
		{"SELECT 1 #!; DROP TABLE t", false},
		{"SELECT 1 #; DROP TABLE t", true}, // '#' without a space is not a comment
		{"SELECT 1 /* ; DROP TABLE t */", false},
		{"SELECT 1 /* /* ; */ ; */ ", false}, // nested
		{"SELECT 1 /* /* */ ; DROP TABLE t */", false},
		{"SELECT 1 /* unclosed ; DROP TABLE t", false},
		{"SELECT ';'", false},
		{"SELECT ';' ; DROP TABLE t", true},
		{`SELECT '\'; DROP TABLE t; --'`, false},
		{`SELECT 'it''s; DROP'`, false},
		{"SELECT `a;b`", false},
		{`SELECT "a;b"`, false},
		{"SELECT $$; DROP TABLE t$$", false},
		{"SELECT $x$; DROP TABLE t$x$", false},
		{"SELECT $x$; DROP TABLE t$y$; DROP TABLE u", true},
		{"SELECT x'41'; DROP TABLE t", true},
		{"SELECT 1 -- comment\r\n; DROP TABLE t", true},
		{"SELECT 1;\u00a0", false}, // Unicode space
		{"SELECT 1e-5; SELECT 2", true},
		{"SELECT t.1; SELECT 2", true},
	}
	for _, c := range cases {
		t.Run(c.q, func(t *testing.T) {
			err := OneStatement(c.q)
			if c.multi {
				require.ErrorIs(t, err, ErrMultipleStatements)
			} else {
				require.NoError(t, err)
			}
		})
	}
}

func TestWords(t *testing.T) {
	require.Equal(t, []string{"SELECT", "a", ",", "FROM", "t", "WHERE", "=", "AND", "x", "=", "1"},
		Words("SELECT a, 'lit;' FROM t /* c */ WHERE `q` = \"d\" AND x = 1 -- end"))
	require.Equal(t, []string{"SELECT", "1", ";"}, Words("SELECT 1 -- x\n;"))
}

// FuzzTokens checks that the lexer covers every byte once, in order, and
// that a quoted string never contains a statement separator of its own.
func FuzzTokens(f *testing.F) {
	for _, s := range []string{
		"SELECT 1; SELECT 2", "SELECT 1 -- ;\n;", "/* /* */ */;", "$a$;$a$;", "x'4", "'\\", "#!x\n;", "1.2e+3.4",
		"SELECT ',' FROM `t;` WHERE \"c\" = 'x''y'",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		var b strings.Builder
		prev := 0
		for _, tok := range Tokens(q) {
			if tok.Start != prev || tok.End <= tok.Start || q[tok.Start:tok.End] != tok.Text {
				t.Fatalf("token %+v does not follow position %d in %q", tok, prev, q)
			}
			if tok.Kind == Semicolon && tok.Text != ";" {
				t.Fatalf("semicolon token %q", tok.Text)
			}
			b.WriteString(tok.Text)
			prev = tok.End
		}
		if b.String() != q {
			t.Fatalf("tokens do not rebuild %q", q)
		}
		// Appending a comment never makes one statement into several.
		if OneStatement(q) == nil && OneStatement(q+"\n-- ; x") != nil {
			t.Fatalf("a trailing comment changed the verdict on %q", q)
		}
	})
}
