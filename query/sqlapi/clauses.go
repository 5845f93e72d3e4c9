package sqlapi

import (
	"strings"

	"github.com/furrowdev/furrow/internal/chsql"
)

// trailing is what the end of a canonical statement asks for: a FORMAT
// clause and the statement's own SETTINGS clause (its outermost one), as
// ClickHouse clients write them ("SELECT … FORMAT JSONEachRow", "SELECT …
// SETTINGS max_result_rows = 10").
type trailing struct {
	format   string
	settings map[string]string
	order    []string // setting names, in the order written
}

// cutTrailing splits canonical (formatQuerySingleLine's output) into the
// statement and its trailing FORMAT and SETTINGS clauses. Only clauses at
// the top level, at the end, are taken; whatever else the text holds is
// left for the classification, which refuses a SETTINGS clause anywhere
// and a FORMAT clause that remains. Cutting never adds text, so a
// statement cut wrongly is still checked whole.
func cutTrailing(canonical string) (string, trailing) {
	var tr trailing
	rest := strings.TrimSpace(canonical)
	for range 2 { // FORMAT … SETTINGS … or SETTINGS … FORMAT …
		toks := significant(rest)
		n := len(toks)
		if tr.format == "" && n >= 2 && toks[n-2].tok.Kind == chsql.Word && strings.EqualFold(toks[n-2].tok.Text, "FORMAT") &&
			toks[n-2].depth == 0 && (toks[n-1].tok.Kind == chsql.Word || toks[n-1].tok.Kind == chsql.QuotedIdent) {
			tr.format = unquoteIdent(toks[n-1].tok)
			rest = strings.TrimSpace(rest[:toks[n-2].tok.Start])
			continue
		}
		if tr.settings == nil {
			at, set, order, ok := settingsClause(toks)
			if ok {
				tr.settings, tr.order = set, order
				rest = strings.TrimSpace(rest[:toks[at].tok.Start])
				continue
			}
		}
		break
	}
	return rest, tr
}

type depthToken struct {
	tok   chsql.Token
	depth int // brackets open before it
}

func significant(q string) []depthToken {
	var out []depthToken
	depth := 0
	for _, t := range chsql.Tokens(q) {
		if !t.Significant() {
			continue
		}
		out = append(out, depthToken{tok: t, depth: depth})
		if t.Kind == chsql.Punct {
			for _, c := range t.Text {
				switch c {
				case '(', '[', '{':
					depth++
				case ')', ']', '}':
					depth--
				}
			}
		}
	}
	return out
}

// settingsClause finds "SETTINGS name = value, …" running to the end of
// toks at the top level, and returns the index of SETTINGS and the values
// (string literals unquoted, anything else as written).
func settingsClause(toks []depthToken) (int, map[string]string, []string, bool) {
	at := -1
	for i := len(toks) - 1; i >= 0; i-- {
		if toks[i].depth == 0 && toks[i].tok.Kind == chsql.Word && strings.EqualFold(toks[i].tok.Text, "SETTINGS") {
			at = i
			break
		}
	}
	if at < 0 || at == len(toks)-1 {
		return 0, nil, nil, false
	}
	set := map[string]string{}
	var order []string
	i := at + 1
	for i < len(toks) {
		if i+2 >= len(toks) || toks[i].tok.Kind != chsql.Word || toks[i+1].tok.Text != "=" {
			return 0, nil, nil, false
		}
		name := toks[i].tok.Text
		j := i + 2
		for j < len(toks) && !(toks[j].depth == 0 && toks[j].tok.Text == ",") {
			j++
		}
		if j == i+3 && toks[i+2].tok.Kind == chsql.String {
			set[name] = unquoteString(toks[i+2].tok.Text)
		} else {
			// A number, a word (true), a map or array literal: as written.
			var text strings.Builder
			for _, t := range toks[i+2 : j] {
				text.WriteString(t.tok.Text)
			}
			set[name] = text.String()
		}
		order = append(order, name)
		i = j + 1
	}
	return at, set, order, true
}

// unquoteString reads a ClickHouse string literal ('…', with backslash
// escapes and doubled quotes).
func unquoteString(lit string) string {
	if len(lit) < 2 || lit[0] != '\'' {
		return lit
	}
	s := lit[1 : len(lit)-1]
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '0':
				b.WriteByte(0)
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			default:
				b.WriteByte(s[i])
			}
		case c == '\'' && i+1 < len(s) && s[i+1] == '\'':
			b.WriteByte('\'')
			i++
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func unquoteIdent(t chsql.Token) string {
	if t.Kind == chsql.QuotedIdent && len(t.Text) >= 2 {
		return t.Text[1 : len(t.Text)-1]
	}
	return t.Text
}
