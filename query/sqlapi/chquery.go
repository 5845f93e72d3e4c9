package sqlapi

import (
	"context"
	"fmt"
	"io"
	"maps"
	"regexp"
	"strings"

	"github.com/furrowdev/furrow/internal/chnative"
	"github.com/furrowdev/furrow/internal/chsql"
	"github.com/furrowdev/furrow/store"
)

// Request is one query of the ClickHouse HTTP interface (api's
// /clickhouse/): the SQL, which may end with a FORMAT and a SETTINGS
// clause as clients write them, and what the URL carried.
type Request struct {
	SQL    string
	Params map[string]string // param_<name>, bound to {name:Type}
	// Settings are the client's (URL parameters that are not part of the
	// protocol); the statement's own SETTINGS clause adds to them.
	Settings map[string]string
	// DefaultFormat is used when the statement has no FORMAT clause; ""
	// means TabSeparated, as on a server.
	DefaultFormat string
	// Database the client asked for; "" or "default" is furrow's.
	Database string
	// QueryID names the query (X-ClickHouse-Query-Id).
	QueryID string
	// ClientRevision is client_protocol_version, for the Native format.
	ClientRevision uint64
}

// Statement is a Request checked and ready to run.
type Statement struct {
	r        *Runner
	p        plan
	format   string
	settings map[string]string
	params   map[string]string
	queryID  string
	revision uint64
	ignored  []string
}

// Format is the output format the result is written in.
func (s *Statement) Format() string { return s.format }

// Ignored lists the client's settings that furrow did not apply (neither
// harmful nor known to be harmless; see vetSettings).
func (s *Statement) Ignored() []string { return s.ignored }

// formatName is what a format's name may be.
var formatName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]{0,63}$`)

// refusedFormats need a schema or template file from the server's disk.
var refusedFormats = lowerSet("Protobuf", "ProtobufSingle", "ProtobufList", "CapnProto", "Template", "TemplateIgnoreSpaces", "Regexp")

// Prepare checks a ClickHouse-interface request as Run checks an
// /api/v1/sql query, with what clients need on top: a FORMAT clause, the
// client's harmless settings (see vetSettings) in the URL or a SETTINGS
// clause, and the schema the analyst may browse (system.databases,
// tables and columns show furrow's database and the readable system
// tables only, through additional_table_filters, enforced by the engine).
func (r *Runner) Prepare(ctx context.Context, req Request) (*Statement, error) {
	if req.Database != "" && req.Database != "default" && req.Database != r.store.Info().Database {
		return nil, &store.Error{Code: codeUnknownDatabase, Name: "UNKNOWN_DATABASE",
			Message: fmt.Sprintf("Database %s does not exist: furrow serves %s", req.Database, r.store.Info().Database)}
	}
	p, err := r.plan(ctx, req.SQL, req.Params)
	if err != nil {
		return nil, err
	}
	client := maps.Clone(req.Settings)
	if client == nil {
		client = map[string]string{}
	}
	for _, name := range p.trailing.order { // the clause wins over the URL, as on a server
		client[name] = p.trailing.settings[name]
	}
	v, err := r.cfg.vetSettings(client)
	if err != nil {
		return nil, err
	}
	settings := r.cfg.settings()
	maps.Copy(settings, v.pass)
	settings["additional_table_filters"] = renderTableFilters(v.filters, r.visibility())

	format := p.trailing.format
	if format == "" {
		format = req.DefaultFormat
	}
	if format == "" {
		format = "TabSeparated"
	}
	if !formatName.MatchString(format) {
		return nil, &store.Error{Code: codeUnknownFormat, Name: "UNKNOWN_FORMAT", Message: fmt.Sprintf("Unknown format %.64q", format)}
	}
	if refusedFormats[strings.ToLower(format)] {
		return nil, &RefusedError{Reason: "the " + format + " format needs a schema or template file on the server: use another format"}
	}
	return &Statement{r: r, p: p, format: format, settings: settings, params: req.Params,
		queryID: req.QueryID, revision: req.ClientRevision, ignored: v.ignored}, nil
}

// visibility are the filters that keep the schema to what the analyst may
// read: furrow's database and the allowed system tables.
func (r *Runner) visibility() map[string]string {
	db := chsql.QuoteString(r.store.Info().Database)
	sys := make([]string, 0, len(systemTables))
	for _, t := range sortedKeys(systemTables) {
		sys = append(sys, t)
	}
	allowed := chsql.QuoteStrings(sys)
	return map[string]string{
		"system.databases": "name IN (" + db + ", 'system')",
		"system.tables":    "database = " + db + " OR (database = 'system' AND has(" + allowed + ", name))",
		"system.columns":   "database = " + db + " OR (database = 'system' AND has(" + allowed + ", table))",
		"system.parts":     "database = " + db,
	}
}

// Run writes the result to w.
func (s *Statement) Run(ctx context.Context, w io.Writer) error {
	opts := []store.Option{store.WithSettings(s.settings), store.WithParams(s.params)}
	if s.queryID != "" {
		opts = append(opts, store.WithQueryID(s.queryID))
	}
	// The embedded engine writes Native as for revision 0, so it is
	// rewritten for the client's. A server's HTTP interface is asked by
	// clickhouse-go with its own client_protocol_version and already
	// writes BlockInfo and the serialization byte.
	if !strings.EqualFold(s.format, "Native") || s.revision == 0 || s.r.store.Info().Kind != "embedded" {
		return s.r.classifyError(s.r.store.Query(ctx, w, s.p.sql, s.format, opts...))
	}
	// The engine writes Native for revision 0; the client reads its own.
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := chnative.Transcode(w, pr, s.revision)
		_ = pr.CloseWithError(err) // unblocks the engine's writes if the transcoder stopped
		done <- err
	}()
	qerr := s.r.store.Query(ctx, pw, s.p.sql, "Native", opts...)
	_ = pw.CloseWithError(qerr)
	terr := <-done
	if qerr != nil {
		return s.r.classifyError(qerr)
	}
	return terr
}

// ClickHouse codes the store package does not name.
const (
	codeUnknownDatabase = 81
	codeUnknownFormat   = 73
)
