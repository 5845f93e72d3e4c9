package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// selfClassified is an error of another package that says it is
// permanent, or not, without importing this one.
type selfClassified bool

func (e selfClassified) Error() string   { return "classified elsewhere" }
func (e selfClassified) Permanent() bool { return bool(e) }

func TestErrorClasses(t *testing.T) {
	chErr := func(code int, name string) error {
		return fmt.Errorf("insert into flow_logs: %w", &Error{Code: code, Name: name, Message: "m"})
	}
	cases := []struct {
		name      string
		err       error
		permanent bool
		transient bool
	}{
		{"nil", nil, false, false},
		{"network error", errors.New("read tcp: connection reset by peer"), false, true},
		{"TOO_MANY_PARTS", chErr(252, "TOO_MANY_PARTS"), false, true},
		{"MEMORY_LIMIT_EXCEEDED", chErr(CodeMemoryLimitExceeded, "MEMORY_LIMIT_EXCEEDED"), false, true},
		{"TIMEOUT_EXCEEDED", chErr(CodeTimeoutExceeded, "TIMEOUT_EXCEEDED"), false, true},
		{"NETWORK_ERROR", chErr(210, "NETWORK_ERROR"), false, true},
		{"NUMBER_OF_COLUMNS_DOESNT_MATCH", chErr(20, "NUMBER_OF_COLUMNS_DOESNT_MATCH"), true, false},
		{"TYPE_MISMATCH", chErr(53, "TYPE_MISMATCH"), true, false},
		{"CANNOT_PARSE_TEXT", chErr(6, "CANNOT_PARSE_TEXT"), true, false},
		{"CANNOT_PARSE_IPV6", chErr(676, "CANNOT_PARSE_IPV6"), true, false},
		{"UNKNOWN_TABLE", chErr(CodeUnknownTable, "UNKNOWN_TABLE"), true, false},
		{"marked permanent", fmt.Errorf("decode: %w", MarkPermanent(errors.New("bad gzip"))), true, false},
		{"classified elsewhere, permanent", fmt.Errorf("x: %w", selfClassified(true)), true, false},
		{"classified elsewhere, transient", fmt.Errorf("x: %w", selfClassified(false)), false, true},
		{"cancelled", fmt.Errorf("x: %w", context.Canceled), false, false},
		{"closed store", ErrClosed, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Permanent(c.err); got != c.permanent {
				t.Errorf("Permanent(%v) = %v, want %v", c.err, got, c.permanent)
			}
			if got := Transient(c.err); got != c.transient {
				t.Errorf("Transient(%v) = %v, want %v", c.err, got, c.transient)
			}
		})
	}
	if MarkPermanent(nil) != nil {
		t.Error("MarkPermanent(nil) is not nil")
	}
}
