package store

import (
	"context"
	"errors"

	"github.com/ClickHouse/ch-go/proto"
)

// Errors fall in two classes, and callers that retry ask which:
//
//   - transient: the moment is wrong (the engine is busy or out of memory,
//     too many parts, a network error or timeout, S3 throttling or a 5xx).
//     The same work may succeed later, so it is retried with backoff.
//   - permanent: the work itself is wrong (a block that does not fit the
//     table, a value the engine cannot parse, a file that cannot be
//     decoded). Retrying repeats the failure, so it is reported once,
//     recorded, and left until the input or the binary changes.
//
// An error is permanent when something in its chain has a method
// Permanent() bool that returns true: *Error does for the ClickHouse codes
// in permanentCodes, and MarkPermanent wraps any other error. Packages
// that classify their own errors implement the method; none of them needs
// to import this one to be asked.

// permanentError is an error MarkPermanent classified as permanent.
type permanentError struct{ err error }

func (e *permanentError) Error() string   { return e.err.Error() }
func (e *permanentError) Unwrap() error   { return e.err }
func (e *permanentError) Permanent() bool { return true }

// MarkPermanent wraps err so that Permanent reports true: retrying the
// same work cannot help. A nil err stays nil.
func MarkPermanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

// Permanent reports whether err, or an error it wraps, says it is
// permanent (see MarkPermanent and Error.Permanent). The first error of the
// chain with a Permanent method decides.
func Permanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}

// Permanent reports whether the ClickHouse error is about the query or
// the data (a retry repeats it) rather than about the moment.
func (e *Error) Permanent() bool { return permanentCodes[e.Code] }

// permanentCodes are ClickHouse errors that a retry cannot fix: the query
// or the data is wrong, not the moment. Every other code (TOO_MANY_PARTS,
// MEMORY_LIMIT_EXCEEDED, TIMEOUT_EXCEEDED, NETWORK_ERROR, …) is transient.
var permanentCodes = map[int]bool{
	CodeSyntaxError:                                true,
	CodeUnknownTable:                               true,
	CodeUnknownDatabase:                            true,
	CodeReadonly:                                   true,
	CodeUnknownQueryParam:                          true,
	CodeUnknownSetting:                             true,
	int(proto.ErrAccessDenied):                     true,
	int(proto.ErrAuthenticationFailed):             true,
	int(proto.ErrUnknownIdentifier):                true,
	int(proto.ErrNoSuchColumnInTable):              true,
	int(proto.ErrThereIsNoColumn):                  true,
	int(proto.ErrNotFoundColumnInBlock):            true,
	int(proto.ErrDuplicateColumn):                  true,
	int(proto.ErrIncorrectNumberOfColumns):         true,
	int(proto.ErrNumberOfColumnsDoesntMatch):       true,
	int(proto.ErrSizesOfColumnsDoesntMatch):        true,
	int(proto.ErrTypeMismatch):                     true,
	int(proto.ErrCannotConvertType):                true,
	int(proto.ErrIllegalColumn):                    true,
	int(proto.ErrUnknownFormat):                    true,
	int(proto.ErrIncorrectData):                    true,
	int(proto.ErrValueIsOutOfRangeOfDataType):      true,
	int(proto.ErrCannotInsertNullInOrdinaryColumn): true,
	int(proto.ErrViolatedConstraint):               true,
	int(proto.ErrCannotParseText):                  true,
	int(proto.ErrCannotParseEscapeSequence):        true,
	int(proto.ErrCannotParseQuotedString):          true,
	int(proto.ErrCannotParseInputAssertionFailed):  true,
	int(proto.ErrCannotParseDate):                  true,
	int(proto.ErrCannotParseDatetime):              true,
	int(proto.ErrCannotParseNumber):                true,
	int(proto.ErrCannotParseUUID):                  true,
	int(proto.ErrCannotParseDomainValueFromString): true,
	int(proto.ErrCannotParseBool):                  true,
	int(proto.ErrCannotParseIpv4):                  true,
	int(proto.ErrCannotParseIpv6):                  true,
}

// Transient reports whether work that failed with err may succeed when
// retried: anything but a cancelled context, a closed store, or a
// permanent error (see Permanent).
func Transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrClosed) {
		return false
	}
	return !Permanent(err)
}
