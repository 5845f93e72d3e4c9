// Package server is the store.Store backend for a ClickHouse server or
// cluster, through github.com/ClickHouse/clickhouse-go/v2.
//
// It keeps two connection pools to the same servers: the native protocol for
// Exec, Insert and Ping (typed blocks, server-side cancellation), and the
// HTTP interface for Query, the only protocol on which the server encodes a
// result in an arbitrary output format (see query.go).
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/furrowdev/furrow/internal/chsql"
	"github.com/furrowdev/furrow/store"
)

// Store is a ClickHouse server or cluster. It implements store.Store and is
// safe for concurrent use.
type Store struct {
	cfg    Configuration
	logger *slog.Logger
	native driver.Conn
	http   driver.Conn
	closed atomic.Bool
}

var _ store.Store = (*Store)(nil)

// Open connects to ClickHouse, creates the configured database if it does not
// exist (on every node of the cluster when one is configured) and checks that
// both protocols answer.
func Open(ctx context.Context, cfg Configuration, logger *slog.Logger) (*Store, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("server: invalid configuration: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With(slog.String("component", "store/server"))
	tlsConfig, err := cfg.TLS.tlsConfig()
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	if err := createDatabase(ctx, cfg, cfg.clientOptions(clickhouse.Native, "", tlsConfig, logger)); err != nil {
		return nil, err
	}

	s := &Store{cfg: cfg, logger: logger}
	if s.native, err = clickhouse.Open(cfg.clientOptions(clickhouse.Native, cfg.Database, tlsConfig, logger)); err != nil {
		return nil, fmt.Errorf("server: open native protocol: %w", err)
	}
	if s.http, err = clickhouse.Open(cfg.clientOptions(clickhouse.HTTP, cfg.Database, tlsConfig, logger)); err != nil {
		_ = s.native.Close()
		return nil, fmt.Errorf("server: open HTTP interface: %w", err)
	}
	if err := s.Ping(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	logger.InfoContext(ctx, "connected to ClickHouse",
		slog.Any("addrs", cfg.Addrs), slog.Any("http_addrs", cfg.HTTPAddrs),
		slog.String("database", cfg.Database), slog.String("cluster", cfg.Cluster))
	return s, nil
}

// createDatabase connects without a database (the handshake fails on a
// missing one) and creates it, unless it exists: a user allowed to use the
// database may lack the right to create databases.
func createDatabase(ctx context.Context, cfg Configuration, opts *clickhouse.Options) error {
	conn, err := clickhouse.Open(opts)
	if err != nil {
		return fmt.Errorf("server: connect: %w", err)
	}
	defer conn.Close()

	var exists uint8
	err = conn.QueryRow(clickhouse.Context(ctx, clickhouse.WithParameters(clickhouse.Parameters{"db": cfg.Database})),
		"SELECT count() > 0 FROM system.databases WHERE name = {db:String}").Scan(&exists)
	if err != nil {
		return wrapError(ctx, "server: look up database "+cfg.Database, err)
	}
	if exists == 1 && cfg.Cluster == "" {
		return nil
	}
	// On a cluster, IF NOT EXISTS … ON CLUSTER also fixes nodes that miss
	// it, and is cheap when none does.
	ddl := "CREATE DATABASE IF NOT EXISTS " + chsql.QuoteIdent(cfg.Database) + onCluster(cfg.Cluster)
	if err := conn.Exec(ctx, ddl); err != nil {
		return wrapError(ctx, "server: create database "+cfg.Database, err)
	}
	return nil
}

// Ping checks that both protocols answer.
func (s *Store) Ping(ctx context.Context) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	if err := s.native.Ping(ctx); err != nil {
		return wrapError(ctx, "server: ping native protocol", err)
	}
	if err := s.http.Ping(ctx); err != nil {
		return wrapError(ctx, "server: ping HTTP interface", err)
	}
	return nil
}

// Info describes the backend.
func (s *Store) Info() store.Info {
	return store.Info{Kind: "server", Database: s.cfg.Database, Cluster: s.cfg.Cluster}
}

// Close closes both connection pools. Other methods then return
// store.ErrClosed; closing again does nothing.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	return errors.Join(s.native.Close(), s.http.Close())
}

func onCluster(cluster string) string {
	if cluster == "" {
		return ""
	}
	return " ON CLUSTER " + chsql.QuoteIdent(cluster)
}
