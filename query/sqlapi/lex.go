package sqlapi

import (
	"strings"

	"github.com/furrowdev/furrow/internal/chsql"
)

// words splits ClickHouse SQL into its bare words and punctuation, without
// string literals, quoted identifiers and comments (chsql.Words).
func words(q string) []string { return chsql.Words(q) }

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
