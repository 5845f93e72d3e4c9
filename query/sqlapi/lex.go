package sqlapi

import "strings"

// literal renders s as a ClickHouse string literal. Inside quotes only the
// backslash and the quote are special, so escaping both is enough for any
// byte sequence to stay one literal.
func literal(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	return "'" + r.Replace(s) + "'"
}

// words splits ClickHouse-formatted SQL into its bare words and punctuation,
// dropping string literals and quoted identifiers. It only needs to be
// right for the formatter's output (no comments, no heredocs: the formatter
// removes the former and turns the latter into quoted literals).
func words(q string) []string {
	var out []string
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			i = skipQuoted(q, i)
		case isWordByte(c):
			j := i
			for j < len(q) && isWordByte(q[j]) {
				j++
			}
			out = append(out, q[i:j])
			i = j
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		default:
			out = append(out, q[i:i+1])
			i++
		}
	}
	return out
}

// skipQuoted returns the index just past the quoted token starting at i.
func skipQuoted(q string, i int) int {
	quote := q[i]
	for j := i + 1; j < len(q); j++ {
		switch q[j] {
		case '\\':
			j++
		case quote:
			if j+1 < len(q) && q[j+1] == quote {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(q)
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
