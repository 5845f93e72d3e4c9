// Package sqlapi runs analysts' SQL against the store: one read-only
// statement at a time, within limits, with the same behaviour on the
// embedded engine and on a ClickHouse server.
//
// The user's text never reaches the engine as SQL. It is first sent inside
// a string literal to formatQuerySingleLine, so ClickHouse's own parser
// rejects multiple statements and prints one canonical statement. EXPLAIN
// AST of that statement tells what it is; only SELECT (and UNION, INTERSECT,
// EXCEPT, WITH), SHOW, DESCRIBE of a table and EXISTS go further, and never
// with a SETTINGS clause, because a SETTINGS clause in a subquery lifts
// readonly. A SELECT then runs as
//
//	SELECT * FROM (<canonical>) SETTINGS readonly=1, max_execution_time=…
//
// with the limits passed through store.WithSettings, so the engine itself
// refuses writes, outside access and oversize results.
package sqlapi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/furrowdev/furrow/internal/chsql"
	"github.com/furrowdev/furrow/store"
)

// Runner runs analysts' queries on a Store. It is safe for concurrent use.
type Runner struct {
	store store.Store
	cfg   Configuration
	plans *planCache
}

// New returns a Runner on s with the limits of cfg (validate cfg first with
// Configuration.Validate).
func New(s store.Store, cfg Configuration) *Runner {
	return &Runner{store: s, cfg: cfg, plans: newPlanCache(planCacheSize)}
}

// Run checks sql, runs it with params bound to its {name:Type}
// placeholders and writes the result to w in format. Errors are
// *RefusedError (not allowed), *LimitError (a limit was hit), errors
// wrapping ErrUnknownFormat or ErrEmptyQuery, or a *store.Error from
// ClickHouse (syntax, unknown table, bad parameter…). On a ClickHouse server
// an error may come after part of the result was written to w.
func (r *Runner) Run(ctx context.Context, w io.Writer, sql string, format Format, params map[string]string) error {
	if !format.valid() {
		_, err := ParseFormat(string(format))
		return err
	}
	p, err := r.plan(ctx, sql, params)
	if err != nil {
		return err
	}
	// This endpoint picks the format and the limits itself.
	if p.trailing.format != "" {
		return errFormatClause
	}
	if p.trailing.settings != nil {
		return errSettingsClause
	}
	err = r.store.Query(ctx, w, p.sql, string(format),
		store.WithSettings(r.cfg.settings()), store.WithParams(params))
	return r.classifyError(err)
}

// plan is the checked statement of sql, from the cache or prepared now.
func (r *Runner) plan(ctx context.Context, sql string, params map[string]string) (plan, error) {
	key := planKey(sql, params)
	if p, ok := r.plans.get(key); ok {
		return p, nil
	}
	p, err := r.prepare(ctx, sql, params)
	if err != nil {
		return plan{}, err
	}
	r.plans.put(key, p)
	return p, nil
}

// plan is a statement ready to run.
type plan struct {
	kind      kind
	canonical string   // formatQuerySingleLine's output, without its trailing clauses
	sql       string   // what is sent, without the settings
	trailing  trailing // the statement's own FORMAT and SETTINGS clauses
}

// prepare canonicalizes, classifies and wraps one statement.
func (r *Runner) prepare(ctx context.Context, sql string, params map[string]string) (plan, error) {
	if len(sql) > r.cfg.MaxQuerySize {
		return plan{}, &LimitError{Limit: "max_query_size", Value: fmt.Sprint(r.cfg.MaxQuerySize)}
	}
	if strings.TrimSpace(sql) == "" {
		return plan{}, ErrEmptyQuery
	}
	if strings.IndexByte(sql, 0) >= 0 {
		// chDB takes the query as a C string: a NUL would cut it short.
		return plan{}, &RefusedError{Reason: "the query contains a NUL byte"}
	}
	// The engine's parser refuses a second statement too; refusing it here
	// first, with a lexer that reads comments and quotes as ClickHouse
	// does, means no text with one is ever sent.
	if chsql.OneStatement(sql) != nil {
		return plan{}, errMultiStatement
	}
	canonical, err := r.canonicalize(ctx, sql)
	if err != nil {
		return plan{}, err
	}
	if canonical == "" {
		return plan{}, ErrEmptyQuery
	}
	// The canonical text is ClickHouse's own printing of one statement; a
	// ';' outside quotes would mean the parser and the printer disagree, and
	// the engine would run a second statement. Never send it.
	if chsql.OneStatement(canonical) != nil {
		return plan{}, errMultiStatement
	}
	canonical, tr := cutTrailing(canonical)
	if canonical == "" {
		return plan{}, ErrEmptyQuery
	}
	// EXPLAIN AST runs under readonly=1 like every statement sent for the
	// user. Its SETTINGS clause shows up in the tree as one Set node, which
	// withoutOwnSettings takes out again; a second one is the user's.
	var out bytes.Buffer
	if err := r.store.Query(ctx, &out, "EXPLAIN AST "+canonical, "TSVRaw",
		store.WithParams(params), store.WithSettings(readOnly)); err != nil {
		if se := asStoreError(err); se != nil && se.Code == store.CodeSyntaxError {
			// Every statement this endpoint runs takes a SETTINGS clause
			// (SYSTEM, KILL… do not): the canonical text parsed alone.
			return plan{}, &RefusedError{Reason: statementName(canonical) + " statements are not allowed: this endpoint only runs SELECT, SHOW, DESCRIBE and EXISTS"}
		}
		if se := asStoreError(err); se != nil && se.Code == store.CodeReadonly {
			// readonly=1 refuses the user's own SETTINGS clause.
			return plan{}, errSettingsClause
		}
		return plan{}, err
	}
	k, err := classify(withoutOwnSettings(parseAST(out.String())), canonical)
	if err != nil {
		return plan{}, err
	}
	p := plan{kind: k, canonical: canonical, sql: canonical, trailing: tr}
	if k == kindSelect {
		p.sql = "SELECT * FROM (" + canonical + ")"
	}
	return p, nil
}

// readOnly is the setting every statement sent on the user's behalf runs
// with, canonicalization and classification included.
var readOnly = map[string]string{"readonly": "1"}

var errMultiStatement = &RefusedError{Reason: "multiple statements are not allowed: send one statement per request"}

// canonicalize has ClickHouse parse sql, passed as a string literal, and
// print it back as one line without comments.
func (r *Runner) canonicalize(ctx context.Context, sql string) (string, error) {
	var out bytes.Buffer
	err := r.store.Query(ctx, &out, "SELECT formatQuerySingleLine("+chsql.QuoteString(sql)+")", "RawBLOB",
		store.WithSettings(readOnly))
	if err != nil {
		return "", cleanParseError(err)
	}
	return strings.TrimSpace(out.String()), nil
}

// cleanParseError makes formatQuerySingleLine's error read as if the user's
// query had been parsed directly: it drops the "In scope SELECT
// formatQuerySingleLine('…')" tail that would echo the query back wrapped
// in ours, and names a multi-statement refusal as such.
func cleanParseError(err error) error {
	se := asStoreError(err)
	if se == nil {
		return err
	}
	if se.Code == store.CodeSyntaxError && strings.Contains(se.Message, "Multi-statements are not allowed") {
		return errMultiStatement
	}
	if se.Code == store.CodeSyntaxError && strings.HasPrefix(se.Message, "Empty query") {
		return ErrEmptyQuery // only comments
	}
	msg := se.Message
	if i := strings.Index(msg, "In scope SELECT formatQuerySingleLine("); i >= 0 {
		msg = strings.TrimRight(msg[:i], " :.") + "."
	}
	return &store.Error{Code: se.Code, Name: se.Name, Message: msg}
}
