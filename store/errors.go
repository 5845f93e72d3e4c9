package store

import (
	"regexp"
	"strconv"
	"strings"
)

// chdb reports errors as text, the way clickhouse-client prints them:
// "Code: 62. DB::Exception: Syntax error: …. (SYNTAX_ERROR)".
var errRE = regexp.MustCompile(`(?s)^Code: (\d+)\. (?:DB::Exception: )?(.*?)(?: \(([A-Z_0-9]+)\))?(?: \(version [^)]*\))?\s*$`)

// ParseError turns ClickHouse's textual error into an *Error. Text that does
// not look like a ClickHouse error is kept whole as the message.
func ParseError(text string) *Error {
	text = strings.TrimSpace(text)
	m := errRE.FindStringSubmatch(text)
	if m == nil {
		return &Error{Message: text}
	}
	code, _ := strconv.Atoi(m[1])
	return &Error{Code: code, Name: m[3], Message: strings.TrimSpace(m[2])}
}

// Well-known ClickHouse error codes furrow reacts to.
const (
	CodeSyntaxError         = 62
	CodeUnknownTable        = 60
	CodeUnknownDatabase     = 81
	CodeReadonly            = 164
	CodeTooManyRows         = 396
	CodeTimeoutExceeded     = 159
	CodeUnknownQueryParam   = 456
	CodeUnknownSetting      = 115
	CodeTableAlreadyExists  = 57
	CodeQueryWasCancelled   = 394
	CodeMemoryLimitExceeded = 241
)
