package flowlogs

import (
	"bytes"
	"encoding/json"
)

// jsonMessage returns the "message" string of a JSON object on one line, as
// CloudWatch Logs and Firehose export flow log records:
//
//	{"timestamp":1620000000000,"message":"2 123456789010 eni-… OK"}
//
// The usual message has no escapes and is returned as a sub-slice of line
// without allocating; an escaped one is decoded with encoding/json.
func jsonMessage(line []byte) ([]byte, bool) {
	i := skipSpace(line, 0)
	if i >= len(line) || line[i] != '{' {
		return nil, false
	}
	i++
	for {
		i = skipSpace(line, i)
		if i < len(line) && line[i] == '}' {
			return nil, false // no message
		}
		key, next, ok := scanString(line, i)
		if !ok {
			return nil, false
		}
		i = skipSpace(line, next)
		if i >= len(line) || line[i] != ':' {
			return nil, false
		}
		i = skipSpace(line, i+1)
		if string(key) == `"message"` {
			val, _, ok := scanString(line, i)
			if !ok {
				return nil, false
			}
			inner := val[1 : len(val)-1]
			if bytes.IndexByte(inner, '\\') < 0 {
				return inner, true
			}
			var s string
			if json.Unmarshal(val, &s) != nil {
				return nil, false
			}
			return []byte(s), true
		}
		if i, ok = skipValue(line, i); !ok {
			return nil, false
		}
		i = skipSpace(line, i)
		if i >= len(line) {
			return nil, false
		}
		switch line[i] {
		case ',':
			i++
		case '}':
			return nil, false
		default:
			return nil, false
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// scanString returns the JSON string starting at b[i], quotes included,
// and the index after it.
func scanString(b []byte, i int) ([]byte, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, i, false
	}
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return b[i : j+1], j + 1, true
		}
	}
	return nil, i, false
}

// skipValue skips the JSON value starting at b[i]: a string, or anything
// else up to the ',' or '}' that ends it at depth zero.
func skipValue(b []byte, i int) (int, bool) {
	depth := 0
	for i < len(b) {
		switch b[i] {
		case '"':
			_, next, ok := scanString(b, i)
			if !ok {
				return i, false
			}
			i = next
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i, true
			}
			depth--
		case ',':
			if depth == 0 {
				return i, true
			}
		}
		i++
	}
	return i, depth == 0
}
