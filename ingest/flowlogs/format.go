package flowlogs

import (
	"errors"
	"fmt"
	"strings"
)

// ErrUnknownField is returned for a header or format that names a field the
// catalogue does not know; the file cannot be parsed until the field is
// added to the catalogue (and to flow_logs).
var ErrUnknownField = errors.New("unknown flow log field")

// ParseFormat splits a flow log format into field names. It accepts the AWS
// LogFormat string ("${version} ${account-id} …") and plain space-separated
// names with dashes or underscores ("version account_id …"), and returns the
// AWS names. Every name must be in the catalogue and appear once.
func ParseFormat(format string) ([]string, error) {
	tokens := strings.Fields(format)
	if len(tokens) == 0 {
		return nil, errors.New("empty flow log format")
	}
	names := make([]string, 0, len(tokens))
	for _, t := range tokens {
		name := t
		if strings.HasPrefix(t, "${") || strings.HasSuffix(t, "}") {
			if !strings.HasPrefix(t, "${") || !strings.HasSuffix(t, "}") || len(t) < 4 {
				return nil, fmt.Errorf("malformed placeholder %q in flow log format", t)
			}
			name = t[2 : len(t)-1]
		}
		i, ok := lookup(name)
		if !ok {
			return nil, fmt.Errorf("%w %q in format", ErrUnknownField, name)
		}
		names = append(names, catalogue[i].Name)
	}
	if _, err := layoutOf(names); err != nil {
		return nil, err
	}
	return names, nil
}

// layoutOf maps field names, in line order, to catalogue indices.
func layoutOf(names []string) ([]int, error) {
	if len(names) > maxLineFields {
		return nil, fmt.Errorf("format has %d fields, at most %d are known", len(names), maxLineFields)
	}
	seen := make([]bool, numFields)
	out := make([]int, len(names))
	for j, n := range names {
		i, ok := lookup(n)
		if !ok {
			return nil, fmt.Errorf("%w %q", ErrUnknownField, n)
		}
		if seen[i] {
			return nil, fmt.Errorf("field %q appears twice", n)
		}
		seen[i] = true
		out[j] = i
	}
	return out, nil
}
