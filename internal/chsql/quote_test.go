package chsql

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestQuote(t *testing.T) {
	for _, c := range []struct {
		name, in, ident, str string
	}{
		{"plain", "flow_logs", "`flow_logs`", "'flow_logs'"},
		{"empty", "", "``", "''"},
		{"quote", "a'b", "`a'b`", `'a\'b'`},
		{"backquote", "a`b", "`a\\`b`", "'a`b'"},
		{"backslash", `a\b`, "`a\\\\b`", `'a\\b'`},
		{"backslash before quote", `a\'`, "`a\\\\'`", `'a\\\''`},
		{"double quote", `a"b`, "`a\"b`", `'a"b'`},
		{"control bytes kept", "a\tb\nc\x00", "`a\tb\nc\x00`", "'a\tb\nc\x00'"},
		{"UTF-8", "zoné", "`zoné`", "'zoné'"},
		{"invalid UTF-8 kept", "a\xffb", "`a\xffb`", "'a\xffb'"},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.ident, QuoteIdent(c.in))
			require.Equal(t, c.str, QuoteString(c.in))
		})
	}
}

func TestQuoteStrings(t *testing.T) {
	for _, c := range []struct {
		name string
		in   []string
		want string
	}{
		{"nil", nil, "[]"},
		{"empty string", []string{""}, "['']"},
		{"several", []string{"sha256:ab?size=1", "s3-etag:\"x\"?size=2"}, `['sha256:ab?size=1','s3-etag:"x"?size=2']`},
		{"quotes and backslashes", []string{`it's`, `c:\dir`}, `['it\'s','c:\\dir']`},
		{"invalid UTF-8 kept", []string{"a\xffb"}, "['a\xffb']"},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, QuoteStrings(c.in))
		})
	}
}
