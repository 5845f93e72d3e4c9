package server

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/ClickHouse/ch-go/proto"
	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/furrowdev/furrow/store"
)

// versionSuffix matches the server version the HTTP interface appends to an
// exception text (" (version 25.3.1.1 (official build))"); the native
// protocol does not send it.
var versionSuffix = regexp.MustCompile(`\s*\(version [^()]*(?:\([^()]*\))?[^()]*\)$`)

// wrapError names the failed operation and turns a ClickHouse exception into
// a *store.Error. When ctx is done, the error also wraps the context's error,
// so callers can test errors.Is(err, context.Canceled) whatever the driver
// made of the interrupted connection.
func wrapError(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	var cause error = err
	if se := storeError(err); se != nil {
		cause = se
	}
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		// The driver may report an interrupted connection or the server's
		// QUERY_WAS_CANCELLED: keep it, but let errors.Is find ctx's error.
		return fmt.Errorf("%s: %w: %w", op, ctxErr, cause)
	}
	return fmt.Errorf("%s: %w", op, cause)
}

// storeError converts the ClickHouse exception inside err, if any.
func storeError(err error) *store.Error {
	var ex *clickhouse.Exception
	if !errors.As(err, &ex) {
		return nil
	}
	// Over the native protocol ex.Name is the exception class
	// ("DB::Exception") and the symbolic code name is absent; over HTTP the
	// driver parses it from the text into CodeName. ch-go's generated table
	// of error codes fills the gap.
	name := ex.CodeName
	if name == "" {
		if code := proto.Error(ex.Code); code.IsAError() {
			name = code.String()
		}
	}
	// Over HTTP the text also ends in " (NAME) (version …)": strip both so
	// messages read the same over both protocols (store.Error.Error adds
	// the name back).
	msg := versionSuffix.ReplaceAllString(strings.TrimSpace(ex.Message), "")
	if name != "" {
		msg = strings.TrimSpace(strings.TrimSuffix(msg, "("+name+")"))
	}
	return &store.Error{Code: int(ex.Code), Name: name, Message: msg}
}
