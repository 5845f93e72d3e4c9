// Package migrations holds furrow's versioned ClickHouse schema and applies
// it. Each file sql/NNNN_name.sql is one version: a text/template of
// statements separated by lines holding only ";". The template renders the
// same schema for a single node (MergeTree) or a cluster (ON CLUSTER,
// Replicated* engines, a Distributed table over each *_local table).
//
// Applied versions are recorded in the schema_migrations table. Statements
// are idempotent (IF NOT EXISTS), so a version interrupted half way is
// simply applied again. A database whose version is newer than this binary
// knows is refused.
//
// After the versions, converging steps (converge.go) compare properties
// that follow the configuration, such as the retention TTLs, with the live
// tables and change only what differs.
package migrations

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/furrowdev/furrow/internal/chsql"
	"github.com/furrowdev/furrow/store"
)

//go:embed sql/*.sql
var files embed.FS

// Migration is one schema version.
type Migration struct {
	Version int
	Name    string
	tmpl    *template.Template
}

// All returns the known migrations in version order.
func All() ([]Migration, error) {
	entries, err := fs.ReadDir(files, "sql")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		num, rest, ok := strings.Cut(strings.TrimSuffix(name, ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration file %s: name must be NNNN_name.sql", name)
		}
		body, err := files.ReadFile(path.Join("sql", name))
		if err != nil {
			return nil, err
		}
		t, err := template.New(name).Option("missingkey=error").Funcs(funcs).Parse(string(body))
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", name, err)
		}
		out = append(out, Migration{Version: v, Name: rest, tmpl: t})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration versions must be 1..n without gaps; found %d at position %d", m.Version, i+1)
		}
	}
	return out, nil
}

// Latest is the newest schema version this binary knows.
func Latest() int {
	all, err := All()
	if err != nil || len(all) == 0 {
		return 0
	}
	return all[len(all)-1].Version
}

// Options shape the rendered DDL.
type Options struct {
	// Cluster, when set, renders ON CLUSTER DDL with Replicated engines and
	// Distributed tables.
	Cluster string
	// DedupWindow is the number of recent insert blocks a table remembers
	// for insert deduplication.
	DedupWindow int
	// Retention is applied as TTLs by the converging step (Converge); the
	// zero value keeps everything forever.
	Retention Retention
}

// Statements renders the migration's statements.
func (m Migration) Statements(o Options) ([]string, error) {
	var buf bytes.Buffer
	t, err := m.tmpl.Clone()
	if err != nil {
		return nil, err
	}
	if err := t.Funcs(bind(o)).Execute(&buf, o); err != nil {
		return nil, fmt.Errorf("render migration %d: %w", m.Version, err)
	}
	var out []string
	for _, part := range splitStatements(buf.String()) {
		if s := strings.TrimSpace(part); s != "" && !onlyComments(s) {
			out = append(out, s)
		}
	}
	return out, nil
}

func splitStatements(s string) []string {
	var parts []string
	var cur strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if strings.TrimSpace(line) == ";" {
			parts = append(parts, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
	}
	return append(parts, cur.String())
}

func onlyComments(s string) bool {
	for _, line := range strings.Split(s, "\n") {
		l := strings.TrimSpace(line)
		if l != "" && !strings.HasPrefix(l, "--") {
			return false
		}
	}
	return true
}

// ErrNewerSchema is returned when the database was migrated by a newer
// furrow.
var ErrNewerSchema = fmt.Errorf("database schema is newer than this furrow")

// Status is the schema state of a database.
type Status struct {
	Current int `json:"current"`
	Latest  int `json:"latest"`
}

// Pending is true when migrations remain to apply.
func (s Status) Pending() bool { return s.Current < s.Latest }

// Migrator applies migrations to a store.
type Migrator struct {
	s    store.Store
	opts Options
}

// New returns a Migrator for s.
func New(s store.Store, opts Options) *Migrator {
	if opts.Cluster == "" {
		opts.Cluster = s.Info().Cluster
	}
	if opts.DedupWindow == 0 {
		opts.DedupWindow = 10000
	}
	return &Migrator{s: s, opts: opts}
}

const versionTable = "schema_migrations"

func (m *Migrator) ensureVersionTable(ctx context.Context) error {
	q := renderInline(`CREATE TABLE IF NOT EXISTS {{local "schema_migrations"}}{{onCluster}} (
	version UInt32,
	name String,
	applied_at DateTime64(3, 'UTC')
) ENGINE = {{engine "MergeTree"}} ORDER BY version`, m.opts)
	if err := m.s.Exec(ctx, q); err != nil {
		return fmt.Errorf("create %s: %w", versionTable, err)
	}
	if d := renderInline(`{{distributed "schema_migrations" "0"}}`, m.opts); strings.TrimSpace(d) != "" {
		if err := m.s.Exec(ctx, d); err != nil {
			return fmt.Errorf("create %s: %w", versionTable, err)
		}
	}
	return nil
}

// Status reads the current schema version.
func (m *Migrator) Status(ctx context.Context) (Status, error) {
	st := Status{Latest: Latest()}
	var buf bytes.Buffer
	err := m.s.Query(ctx, &buf, "SELECT max(version) AS v FROM "+versionTable, "JSONEachRow",
		store.WithSettings(map[string]string{"output_format_json_quote_64bit_integers": "0"}))
	if err != nil {
		var se *store.Error
		if asStoreError(err, &se) && se.Code == store.CodeUnknownTable {
			return st, nil
		}
		return st, fmt.Errorf("read schema version: %w", err)
	}
	var row struct {
		V int `json:"v"`
	}
	if buf.Len() > 0 {
		if err := json.Unmarshal(buf.Bytes(), &row); err != nil {
			return st, fmt.Errorf("read schema version: %w", err)
		}
	}
	st.Current = row.V
	return st, nil
}

// Up applies every pending migration, then the converging steps
// (Converge), and returns the versions applied.
func (m *Migrator) Up(ctx context.Context) ([]int, error) {
	applied, err := m.UpTo(ctx, Latest())
	if err != nil {
		return applied, err
	}
	_, err = m.Converge(ctx)
	return applied, err
}

// UpTo applies pending migrations up to and including version target.
func (m *Migrator) UpTo(ctx context.Context, target int) ([]int, error) {
	all, err := All()
	if err != nil {
		return nil, err
	}
	if err := m.ensureVersionTable(ctx); err != nil {
		return nil, err
	}
	st, err := m.Status(ctx)
	if err != nil {
		return nil, err
	}
	if st.Current > st.Latest {
		return nil, fmt.Errorf("%w: the database is at version %d, this binary knows up to %d; upgrade furrow before using this database", ErrNewerSchema, st.Current, st.Latest)
	}
	var applied []int
	for _, mig := range all {
		if mig.Version <= st.Current || mig.Version > target {
			continue
		}
		stmts, err := mig.Statements(m.opts)
		if err != nil {
			return applied, err
		}
		for i, q := range stmts {
			if err := m.s.Exec(ctx, q); err != nil {
				return applied, fmt.Errorf("migration %04d_%s, statement %d: %w", mig.Version, mig.Name, i+1, err)
			}
		}
		rec := fmt.Sprintf("INSERT INTO %s (version, name, applied_at) VALUES (%d, %s, %s)",
			versionTable, mig.Version, chsql.QuoteString(mig.Name), chsql.QuoteString(time.Now().UTC().Format("2006-01-02 15:04:05.000")))
		if err := m.s.Exec(ctx, rec); err != nil {
			return applied, fmt.Errorf("record migration %d: %w", mig.Version, err)
		}
		applied = append(applied, mig.Version)
	}
	return applied, nil
}
