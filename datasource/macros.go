package datasource

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"
)

// Macros are those of Grafana's ClickHouse datasource, with the same names
// and the same SQL, so a query written for it works here:
//
//	$__timeFilter(col)         col >= toDateTime(from) AND col <= toDateTime(to)
//	$__timeFilter_ms(col)      the same with fromUnixTimestamp64Milli(ms)
//	$__dateFilter(col)         col >= toDate('from') AND col <= toDate('to')
//	$__dateTimeFilter(d, t)    both, ANDed; $__dt is the same
//	$__fromTime, $__toTime     toDateTime(seconds)
//	$__fromTime_ms, $__toTime_ms fromUnixTimestamp64Milli(ms)
//	$__timeInterval(col)       toStartOfInterval(toDateTime(col), INTERVAL n second)
//	$__timeInterval_ms(col)    toStartOfInterval(toDateTime64(col, 3), INTERVAL n millisecond)
//	$__interval_s              the interval in seconds (at least 1)
//	$__conditionalAll(cond, $var) cond, or 1=1 when the variable is All
//
// Times are Unix seconds or milliseconds, so the server's time zone does
// not matter.

// TimeRange is a query's time range and interval.
type TimeRange struct {
	From, To time.Time
	Interval time.Duration
}

var macroName = regexp.MustCompile(`\$__([A-Za-z_]+)\b`)

// allValue is what Grafana sends for a variable set to All when the
// datasource has no custom All value.
const allValue = "$__all"

// Expand replaces the macros in sql.
func Expand(sql string, tr TimeRange) (string, error) {
	var b strings.Builder
	rest := sql
	for {
		loc := macroName.FindStringSubmatchIndex(rest)
		if loc == nil {
			b.WriteString(rest)
			return b.String(), nil
		}
		name := rest[loc[2]:loc[3]]
		after := rest[loc[1]:]
		var args []string
		hasArgs := strings.HasPrefix(after, "(")
		if hasArgs {
			var n int
			var err error
			args, n, err = macroArgs(after)
			if err != nil {
				return "", fmt.Errorf("$__%s: %w", name, err)
			}
			after = after[n:]
		}
		out, known, err := expandOne(name, args, hasArgs, tr)
		if err != nil {
			return "", fmt.Errorf("$__%s: %w", name, err)
		}
		b.WriteString(rest[:loc[0]])
		if !known {
			// Not ours (e.g. a Grafana global variable left as is): keep it.
			b.WriteString(rest[loc[0]:loc[1]])
			rest = rest[loc[1]:]
			continue
		}
		b.WriteString(out)
		rest = after
	}
}

func expandOne(name string, args []string, hasArgs bool, tr TimeRange) (string, bool, error) {
	need := func(n int) error {
		if len(args) != n {
			return fmt.Errorf("expected %d argument(s), got %d", n, len(args))
		}
		return nil
	}
	secs := func(t time.Time) string { return fmt.Sprintf("toDateTime(%d)", t.Unix()) }
	ms := func(t time.Time) string { return fmt.Sprintf("fromUnixTimestamp64Milli(%d)", t.UnixMilli()) }
	date := func(t time.Time) string { return fmt.Sprintf("toDate('%s')", t.UTC().Format(time.DateOnly)) }
	switch name {
	case "fromTime":
		return secs(tr.From), true, nil
	case "toTime":
		return secs(tr.To), true, nil
	case "fromTime_ms":
		return ms(tr.From), true, nil
	case "toTime_ms":
		return ms(tr.To), true, nil
	case "timeFilter":
		if err := need(1); err != nil {
			return "", true, err
		}
		return fmt.Sprintf("%s >= %s AND %s <= %s", args[0], secs(tr.From), args[0], secs(tr.To)), true, nil
	case "timeFilter_ms":
		if err := need(1); err != nil {
			return "", true, err
		}
		return fmt.Sprintf("%s >= %s AND %s <= %s", args[0], ms(tr.From), args[0], ms(tr.To)), true, nil
	case "dateFilter":
		if err := need(1); err != nil {
			return "", true, err
		}
		return fmt.Sprintf("%s >= %s AND %s <= %s", args[0], date(tr.From), args[0], date(tr.To)), true, nil
	case "dateTimeFilter", "dt":
		if err := need(2); err != nil {
			return "", true, err
		}
		return fmt.Sprintf("(%s >= %s AND %s <= %s) AND (%s >= %s AND %s <= %s)",
			args[0], date(tr.From), args[0], date(tr.To), args[1], secs(tr.From), args[1], secs(tr.To)), true, nil
	case "timeInterval":
		if err := need(1); err != nil {
			return "", true, err
		}
		return fmt.Sprintf("toStartOfInterval(toDateTime(%s), INTERVAL %d second)", args[0], intervalSeconds(tr)), true, nil
	case "timeInterval_ms":
		if err := need(1); err != nil {
			return "", true, err
		}
		m := int64(math.Max(float64(tr.Interval.Milliseconds()), 1))
		return fmt.Sprintf("toStartOfInterval(toDateTime64(%s, 3), INTERVAL %d millisecond)", args[0], m), true, nil
	case "interval_s":
		return fmt.Sprint(intervalSeconds(tr)), true, nil
	case "conditionalAll":
		// The variable's value may itself hold commas (several quoted
		// values): everything after the condition is the value.
		if len(args) < 2 {
			return "", true, fmt.Errorf("expected 2 arguments, got %d", len(args))
		}
		value := strings.Join(args[1:], ",")
		v := strings.Trim(strings.TrimSpace(value), `'"`)
		if v == allValue || v == "" || strings.Contains(value, allValue) {
			return "1=1", true, nil
		}
		return args[0], true, nil
	}
	_ = hasArgs
	return "", false, nil
}

func intervalSeconds(tr TimeRange) int64 {
	return int64(math.Max(tr.Interval.Seconds(), 1))
}

// macroArgs reads "(a, b)" at the start of s, minding nested brackets and
// quotes, and returns the trimmed arguments and the length read.
func macroArgs(s string) ([]string, int, error) {
	depth := 0
	var args []string
	start := 1
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'', '"', '`':
			j := i + 1
			for j < len(s) && s[j] != c {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) {
				return nil, 0, fmt.Errorf("unterminated quote in the arguments")
			}
			i = j
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				if a := strings.TrimSpace(s[start:i]); a != "" || len(args) > 0 {
					args = append(args, a)
				}
				return args, i + 1, nil
			}
		case ',':
			if depth == 1 {
				args = append(args, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return nil, 0, fmt.Errorf("missing closing parenthesis")
}
