package sqlapi

import (
	"errors"
	"fmt"

	"github.com/furrowdev/furrow/store"
)

var (
	// ErrUnknownFormat is wrapped by the error for an unsupported format.
	ErrUnknownFormat = errors.New("unknown format")
	// ErrEmptyQuery is returned for a query that is empty or only comments.
	ErrEmptyQuery = errors.New("the query is empty: send one SELECT, SHOW, DESCRIBE or EXISTS statement")
)

// RefusedError is a query this endpoint will not run: it is not read-only,
// or it tries to escape the limits. Err is ClickHouse's own refusal, if the
// engine refused it (READONLY, ACCESS_DENIED).
type RefusedError struct {
	Reason string
	Err    error
}

func (e *RefusedError) Error() string { return "query refused: " + e.Reason }

// Unwrap gives access to the ClickHouse error, if any.
func (e *RefusedError) Unwrap() error { return e.Err }

// LimitError is a query stopped by one of the configured limits. Limit is
// the setting's name (max_result_rows, max_execution_time,
// max_memory_usage, max_query_size…); Err is ClickHouse's error, if the
// engine stopped it.
type LimitError struct {
	Limit string
	Value string
	Err   error
}

func (e *LimitError) Error() string {
	hint := "narrow the query (WHERE, LIMIT, aggregation)"
	if e.Limit == "max_query_size" {
		hint = "send a shorter query"
	}
	msg := fmt.Sprintf("query exceeds %s=%s: %s", e.Limit, e.Value, hint)
	if e.Err != nil {
		msg += " (" + e.Err.Error() + ")"
	}
	return msg
}

// Unwrap gives access to the ClickHouse error, if any.
func (e *LimitError) Unwrap() error { return e.Err }

// classifyError turns what the engine said about a user statement into the
// package's typed errors; other errors (syntax, unknown table) are returned
// as they are: their *store.Error carries ClickHouse's code and message.
func (r *Runner) classifyError(err error) error {
	var se *store.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code {
	case store.CodeReadonly:
		return &RefusedError{Reason: "the engine refused it in read-only mode (table functions such as file(), url() and remote() are not allowed)", Err: err}
	case codeAccessDenied:
		return &RefusedError{Reason: "not enough privileges", Err: err}
	case store.CodeTooManyRows:
		limit, value := "max_result_rows", fmt.Sprint(r.cfg.MaxResultRows)
		if containsFold(se.Message, "bytes") {
			limit, value = "max_result_bytes", fmt.Sprint(r.cfg.MaxResultBytes)
		}
		return &LimitError{Limit: limit, Value: value, Err: err}
	case store.CodeTimeoutExceeded, codeTooSlow:
		return &LimitError{Limit: "max_execution_time", Value: r.cfg.MaxExecutionTime.String(), Err: err}
	case store.CodeMemoryLimitExceeded:
		return &LimitError{Limit: "max_memory_usage", Value: fmt.Sprint(r.cfg.MaxMemoryUsage), Err: err}
	}
	return err
}

// ClickHouse codes the store package does not name.
const (
	codeTooSlow      = 160
	codeAccessDenied = 497
)

func asStoreError(err error) *store.Error {
	var se *store.Error
	if errors.As(err, &se) {
		return se
	}
	return nil
}
