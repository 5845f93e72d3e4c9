package chsql

import "strings"

// Every piece of furrow that writes a name or a value into SQL text goes
// through these functions, so that the escaping rules live in one place and
// agree with the lexer above (TestQuoteRoundTrip has the engine read them
// back).

var (
	identEscaper  = strings.NewReplacer(`\`, `\\`, "`", "\\`")
	stringEscaper = strings.NewReplacer(`\`, `\\`, `'`, `\'`)
)

// QuoteIdent renders s as a back-quoted identifier.
func QuoteIdent(s string) string {
	return "`" + identEscaper.Replace(s) + "`"
}

// QuoteString renders s as a string literal. Inside quotes only the
// backslash and the quote are special, so escaping both is enough for any
// byte sequence to stay one literal: the bytes are kept as they are, valid
// UTF-8 or not.
func QuoteString(s string) string {
	return "'" + stringEscaper.Replace(s) + "'"
}

// QuoteStrings renders ss as an array of string literals, ['a','b']. The
// same text is an Array(String) literal in a query and an Array(String)
// query parameter's value, which is how the ingest ledger passes its lists
// of object identities.
func QuoteStrings(ss []string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, s := range ss {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(QuoteString(s))
	}
	b.WriteByte(']')
	return b.String()
}
