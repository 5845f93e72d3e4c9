// Package state is furrow's operational store: the transactional state of
// the catalog (and later deploys, the alert outbox, provisioning jobs), in
// SQL through database/sql. SQLite (modernc.org/sqlite, pure Go) in the
// data directory by default; PostgreSQL (pgx) when state.dsn is set, so
// that several furrow replicas share one state. Versioned migrations
// (goose) for each dialect run at start and by `furrow migrate`; a schema
// newer than this furrow is refused.
package state

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // database/sql driver "sqlite"
)

// Configuration says where the state lives.
type Configuration struct {
	// DSN of a PostgreSQL database (postgres://user@host:5432/furrow);
	// empty keeps the state in SQLite in the data directory.
	DSN string `yaml:"dsn"`
	// Path of the SQLite file; empty is state.db in the data directory.
	Path string `yaml:"path"`
}

// DefaultConfiguration keeps the state in SQLite next to the data.
func DefaultConfiguration() Configuration { return Configuration{} }

// Validate checks the DSN's form (the server is reached at Open).
func (c Configuration) Validate() error {
	if c.DSN == "" {
		return nil
	}
	u, err := url.Parse(c.DSN)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return errors.New("state.dsn: use postgres://user@host:5432/database (the password in the URL or PGPASSWORD)")
	}
	return nil
}

// Dialect is the SQL dialect of a Store.
type Dialect string

// The dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Store is an open operational store.
type Store struct {
	db      *sql.DB
	dialect Dialect
}

//go:embed migrations
var migrationFiles embed.FS

// Open connects (creating the SQLite file if needed) and applies the
// migrations. dataDir is where SQLite's file goes by default.
func Open(ctx context.Context, cfg Configuration, dataDir string) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var s *Store
	if cfg.DSN != "" {
		db, err := sql.Open("pgx", cfg.DSN)
		if err != nil {
			return nil, fmt.Errorf("state: %w", err)
		}
		db.SetMaxOpenConns(8)
		s = &Store{db: db, dialect: Postgres}
	} else {
		path := cfg.Path
		if path == "" {
			path = filepath.Join(dataDir, "state.db")
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("state: %w", err)
		}
		// WAL lets readers run beside the writer; busy_timeout waits for
		// the lock instead of failing; foreign keys are off by default.
		// synchronous FULL (SQLite's default, said here on purpose): each
		// commit is on disk before it returns, as what commits here is
		// acknowledged to someone (an alert webhook's 202); NORMAL in WAL
		// survives a crash of furrow but may lose the last commits on a
		// power loss. FULL costs ~0.7 ms per commit on this machine, which
		// alert acceptance pays once per webhook (make bench-alerting).
		dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_txlock=immediate"
		db, err := sql.Open("sqlite", dsn)
		if err != nil {
			return nil, fmt.Errorf("state: %w", err)
		}
		db.SetMaxOpenConns(1) // one writer; SQLite serializes anyway
		s = &Store{db: db, dialect: SQLite}
	}
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := s.db.PingContext(pctx); err != nil {
		_ = s.db.Close()
		return nil, fmt.Errorf("state: connect to %s: %w", s.dialect, err)
	}
	if _, err := s.Migrate(ctx); err != nil {
		_ = s.db.Close()
		return nil, err
	}
	return s, nil
}

// DB is the database, for the components that keep their state here.
func (s *Store) DB() *sql.DB { return s.db }

// Dialect says which SQL the store speaks.
func (s *Store) Dialect() Dialect { return s.dialect }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

func (s *Store) provider() (*goose.Provider, error) {
	sub, err := fs.Sub(migrationFiles, "migrations/"+string(s.dialect))
	if err != nil {
		return nil, err
	}
	dialect := goose.DialectSQLite3
	if s.dialect == Postgres {
		dialect = goose.DialectPostgres
	}
	return goose.NewProvider(dialect, s.db, sub)
}

// ErrNewerSchema is returned when the state was migrated by a newer furrow.
var ErrNewerSchema = errors.New("the operational state has a newer schema than this furrow knows: run the newer furrow, or restore a backup")

// Migrate applies the migrations not applied yet and returns their
// versions; it refuses a schema newer than this furrow's.
func (s *Store) Migrate(ctx context.Context) ([]int64, error) {
	p, err := s.provider()
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	current, err := p.GetDBVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("state: read the schema version: %w", err)
	}
	sources := p.ListSources()
	if n := len(sources); n > 0 && current > sources[n-1].Version {
		return nil, fmt.Errorf("state: schema version %d, this furrow knows up to %d: %w", current, sources[n-1].Version, ErrNewerSchema)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("state: migrate: %w", err)
	}
	var applied []int64
	for _, r := range res {
		applied = append(applied, r.Source.Version)
	}
	return applied, nil
}

// Version is the applied schema version.
func (s *Store) Version(ctx context.Context) (int64, error) {
	p, err := s.provider()
	if err != nil {
		return 0, err
	}
	return p.GetDBVersion(ctx)
}

// Latest is the newest schema version this furrow knows.
func (s *Store) Latest() (int64, error) {
	p, err := s.provider()
	if err != nil {
		return 0, err
	}
	src := p.ListSources()
	if len(src) == 0 {
		return 0, nil
	}
	return src[len(src)-1].Version, nil
}

// IsUniqueViolation reports whether err is a duplicate key, in either
// dialect.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "SQLSTATE 23505") ||
		strings.Contains(msg, "duplicate key value")
}
