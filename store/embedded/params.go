package embedded

import (
	"fmt"
	"sort"
	"strings"

	"github.com/furrowdev/furrow/internal/chsql"
	"github.com/furrowdev/furrow/store"
)

// bindParams replaces ClickHouse query-parameter placeholders {name:Type}
// with typed literals. chDB has no per-query parameter channel (SET
// param_x is session state, shared by every caller of the one engine), so
// the binding happens here: the value goes into a string literal that
// ClickHouse CASTs to Type, which parses it with the type's text format just
// as a server parses a bound parameter. {name:Identifier} becomes a quoted
// identifier. Placeholders inside string literals, quoted identifiers and
// comments are left alone.
func bindParams(q string, params map[string]string) (string, error) {
	if len(params) == 0 || !strings.Contains(q, "{") {
		return q, nil
	}
	var b strings.Builder
	b.Grow(len(q) + 64)
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			j := skipQuoted(q, i)
			b.WriteString(q[i:j])
			i = j
		case c == '-' && i+1 < len(q) && q[i+1] == '-', c == '#':
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				j = len(q) - i
			}
			b.WriteString(q[i : i+j])
			i += j
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			j := strings.Index(q[i+2:], "*/")
			end := len(q)
			if j >= 0 {
				end = i + 2 + j + 2
			}
			b.WriteString(q[i:end])
			i = end
		case c == '{':
			name, typ, end, ok := placeholder(q, i)
			if !ok {
				b.WriteByte(c)
				i++
				continue
			}
			v, found := params[name]
			if !found {
				return "", &store.Error{Code: store.CodeUnknownQueryParam, Name: "UNKNOWN_QUERY_PARAMETER",
					Message: fmt.Sprintf("Substitution `%s` is not set", name)}
			}
			if typ == "Identifier" {
				b.WriteString(chsql.QuoteIdent(v))
			} else {
				b.WriteString("CAST(")
				b.WriteString(quoteEscaped(v))
				b.WriteString(" AS ")
				b.WriteString(typ)
				b.WriteString(")")
			}
			i = end
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), nil
}

// skipQuoted returns the index just past the quoted token starting at i.
func skipQuoted(q string, i int) int {
	quote := q[i]
	for j := i + 1; j < len(q); j++ {
		switch q[j] {
		case '\\':
			j++
		case quote:
			if j+1 < len(q) && q[j+1] == quote { // doubled quote
				j++
				continue
			}
			return j + 1
		}
	}
	return len(q)
}

// placeholder parses {name:Type} at q[i].
func placeholder(q string, i int) (name, typ string, end int, ok bool) {
	close := strings.IndexByte(q[i:], '}')
	if close < 0 {
		return "", "", 0, false
	}
	body := q[i+1 : i+close]
	colon := strings.IndexByte(body, ':')
	if colon < 0 {
		return "", "", 0, false
	}
	name = strings.TrimSpace(body[:colon])
	typ = strings.TrimSpace(body[colon+1:])
	if !validIdent(name) || typ == "" {
		return "", "", 0, false
	}
	return name, typ, i + close + 1, true
}

// quoteEscaped puts v, written in ClickHouse's escaped text format (as
// parameter values are), into a string literal: backslash escapes are kept,
// bare single quotes are escaped.
func quoteEscaped(v string) string {
	var b strings.Builder
	b.Grow(len(v) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\':
			if i+1 < len(v) {
				b.WriteByte('\\')
				b.WriteByte(v[i+1])
				i++
			} else {
				b.WriteString(`\\`)
			}
		case '\'':
			b.WriteString(`\'`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// appendSettings adds a SETTINGS clause for per-query settings. Callers that
// pass settings must not end their query with their own SETTINGS or FORMAT
// clause.
func appendSettings(q string, settings map[string]string) string {
	if len(settings) == 0 {
		return q
	}
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(strings.TrimRight(q, " \t\r\n;"))
	b.WriteString("\nSETTINGS ")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteString(" = ")
		b.WriteString(SettingLiteral(settings[k]))
	}
	return b.String()
}

// SettingLiteral renders a setting value: numbers as is, anything else as a
// quoted string.
func SettingLiteral(v string) string {
	if v == "" {
		return "''"
	}
	num := true
	for i := 0; i < len(v); i++ {
		if !(v[i] >= '0' && v[i] <= '9' || v[i] == '.' || (i == 0 && v[i] == '-')) {
			num = false
			break
		}
	}
	if num {
		return v
	}
	return chsql.QuoteString(v)
}
