package chnative

import (
	"fmt"
	"strconv"
	"strings"
)

// typ is a parsed ClickHouse type name: its family and arguments, the
// nested types among them parsed too.
type typ struct {
	name string
	args []string // raw arguments, as written
	sub  []*typ   // parsed nested types (Array, Nullable, Tuple, Map, LowCardinality…)
	size int      // bytes per value of a fixed-size type, else 0
}

// fixedSizes are the types stored as size bytes per value.
var fixedSizes = map[string]int{
	"UInt8": 1, "Int8": 1, "Bool": 1, "Enum8": 1,
	"UInt16": 2, "Int16": 2, "Enum16": 2, "Date": 2, "BFloat16": 2,
	"UInt32": 4, "Int32": 4, "Float32": 4, "Date32": 4, "DateTime": 4, "DateTime32": 4, "IPv4": 4, "Time": 4,
	"UInt64": 8, "Int64": 8, "Float64": 8, "DateTime64": 8, "Time64": 8,
	"UInt128": 16, "Int128": 16, "UUID": 16, "IPv6": 16,
	"UInt256": 32, "Int256": 32,
	"Decimal32": 4, "Decimal64": 8, "Decimal128": 16, "Decimal256": 32,
	"IntervalNanosecond": 8, "IntervalMicrosecond": 8, "IntervalMillisecond": 8, "IntervalSecond": 8,
	"IntervalMinute": 8, "IntervalHour": 8, "IntervalDay": 8, "IntervalWeek": 8, "IntervalMonth": 8,
	"IntervalQuarter": 8, "IntervalYear": 8,
}

// aliases are types written as another: the geo types.
var aliases = map[string]string{
	"Point":           "Tuple(Float64, Float64)",
	"Ring":            "Array(Tuple(Float64, Float64))",
	"LineString":      "Array(Tuple(Float64, Float64))",
	"MultiLineString": "Array(Array(Tuple(Float64, Float64)))",
	"Polygon":         "Array(Array(Tuple(Float64, Float64)))",
	"MultiPolygon":    "Array(Array(Array(Tuple(Float64, Float64))))",
}

// maxDepth bounds nesting, so a hostile type name cannot exhaust the stack.
const maxDepth = 64

// parseType parses a type name as ClickHouse prints it in Native blocks.
func parseType(s string) (*typ, error) { return parseTypeDepth(strings.TrimSpace(s), 0) }

func parseTypeDepth(s string, depth int) (*typ, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("type nested too deeply")
	}
	name, rest, hasArgs := strings.Cut(s, "(")
	name = strings.TrimSpace(name)
	t := &typ{name: name}
	if hasArgs {
		if !strings.HasSuffix(rest, ")") {
			return nil, fmt.Errorf("type %q: unbalanced parentheses", s)
		}
		args, err := splitArgs(rest[:len(rest)-1])
		if err != nil {
			return nil, fmt.Errorf("type %q: %w", s, err)
		}
		t.args = args
	}
	if a, ok := aliases[name]; ok && !hasArgs {
		return parseTypeDepth(a, depth+1)
	}
	nested := func(arg string) (*typ, error) { return parseTypeDepth(arg, depth+1) }
	switch name {
	case "Nullable", "Array", "LowCardinality":
		if len(t.args) != 1 {
			return nil, fmt.Errorf("type %q: %s takes one type", s, name)
		}
		sub, err := nested(t.args[0])
		if err != nil {
			return nil, err
		}
		t.sub = []*typ{sub}
	case "Map":
		if len(t.args) != 2 {
			return nil, fmt.Errorf("type %q: Map takes two types", s)
		}
		// A map is stored as Array(Tuple(K, V)).
		return nested("Array(Tuple(" + t.args[0] + ", " + t.args[1] + "))")
	case "Tuple":
		for _, a := range t.args {
			sub, err := nested(tupleElementType(a))
			if err != nil {
				return nil, err
			}
			t.sub = append(t.sub, sub)
		}
	case "SimpleAggregateFunction":
		// Stored as its value type, the last argument.
		if len(t.args) < 2 {
			return nil, fmt.Errorf("type %q: SimpleAggregateFunction takes a function and a type", s)
		}
		return nested(t.args[len(t.args)-1])
	case "FixedString":
		if len(t.args) != 1 {
			return nil, fmt.Errorf("type %q: FixedString takes a length", s)
		}
		n, err := strconv.Atoi(strings.TrimSpace(t.args[0]))
		if err != nil || n <= 0 || n > 1<<20 {
			return nil, fmt.Errorf("type %q: bad FixedString length", s)
		}
		t.size = n
	case "Decimal":
		if len(t.args) < 1 {
			return nil, fmt.Errorf("type %q: Decimal takes a precision", s)
		}
		p, err := strconv.Atoi(strings.TrimSpace(t.args[0]))
		if err != nil || p < 1 || p > 76 {
			return nil, fmt.Errorf("type %q: bad Decimal precision", s)
		}
		switch {
		case p <= 9:
			t.size = 4
		case p <= 18:
			t.size = 8
		case p <= 38:
			t.size = 16
		default:
			t.size = 32
		}
	case "String", "Nothing":
	default:
		size, ok := fixedSizes[name]
		if !ok {
			return nil, fmt.Errorf("%w: %s", ErrUnsupportedType, s)
		}
		t.size = size
	}
	return t, nil
}

// tupleElementType drops the name of a named tuple element ("a UInt8" →
// "UInt8"). An element's type never starts with a space-separated word
// followed by more, except for that name.
func tupleElementType(a string) string {
	a = strings.TrimSpace(a)
	if strings.HasPrefix(a, "`") { // a quoted name
		if j := strings.Index(a[1:], "`"); j >= 0 {
			return strings.TrimSpace(a[j+2:])
		}
	}
	i := strings.IndexAny(a, " (")
	if i > 0 && a[i] == ' ' {
		return strings.TrimSpace(a[i+1:])
	}
	return a
}

// splitArgs splits a type's arguments at top-level commas, minding
// parentheses and quoted strings (Enum8('a,b' = 1)).
func splitArgs(s string) ([]string, error) {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\'', '`', '"':
			q := s[i]
			for i++; i < len(s) && s[i] != q; i++ {
				if s[i] == '\\' {
					i++
				}
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unterminated quote")
			}
		case '(':
			depth++
		case ')':
			depth--
			if depth < 0 {
				return nil, fmt.Errorf("unbalanced parentheses")
			}
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("unbalanced parentheses")
	}
	return append(out, strings.TrimSpace(s[start:])), nil
}
