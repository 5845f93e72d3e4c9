package store

import "testing"

func TestParseError(t *testing.T) {
	cases := []struct {
		name, in  string
		code      int
		errName   string
		msgPrefix string
	}{
		{"syntax", "Code: 62. DB::Exception: Syntax error: failed at position 1 (x): x. Expected one of: token. (SYNTAX_ERROR)", 62, "SYNTAX_ERROR", "Syntax error: failed at position 1 (x)"},
		{"readonly", "Code: 164. DB::Exception: default: Cannot execute query in readonly mode. (READONLY)", 164, "READONLY", "default: Cannot execute"},
		{"with version", "Code: 60. DB::Exception: Unknown table expression identifier 't'. (UNKNOWN_TABLE) (version 26.5.1.1)\n", 60, "UNKNOWN_TABLE", "Unknown table expression"},
		{"not clickhouse", "dial tcp: connection refused", 0, "", "dial tcp: connection refused"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := ParseError(c.in)
			if e.Code != c.code || e.Name != c.errName || len(e.Message) < len(c.msgPrefix) || e.Message[:len(c.msgPrefix)] != c.msgPrefix {
				t.Fatalf("ParseError(%q) = %+v", c.in, e)
			}
		})
	}
}
