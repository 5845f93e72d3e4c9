package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/furrowdev/furrow/migrations"
	"github.com/furrowdev/furrow/store"
	"github.com/furrowdev/furrow/store/embedded"
	"github.com/furrowdev/furrow/store/server"
)

// openStore opens the configured backend for command ("furrow serve", …).
// With migrate, pending migrations are applied first. When another furrow
// process holds the embedded data directory, the error is an
// *embedded.LockedError naming it.
func (a *app) openStore(ctx context.Context, command string, migrate bool) (store.Store, error) {
	var s store.Store
	switch a.cfg.Store.Backend {
	case "server":
		cfg := a.cfg.Store.Server
		cfg.Database = a.cfg.Store.Database
		ss, err := server.Open(ctx, cfg, a.logger)
		if err != nil {
			return nil, err
		}
		s = ss
	default:
		es, err := embedded.Open(ctx, a.cfg.Store.Embedded, embedded.Options{
			Dir: a.cfg.Data, Database: a.cfg.Store.Database, Command: command, Logger: a.logger,
		})
		if err != nil {
			return nil, err
		}
		s = es
	}
	if !migrate {
		return s, nil
	}
	m := migrations.New(s, a.migrationOptions(s))
	applied, err := m.UpTo(ctx, migrations.Latest())
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if len(applied) > 0 {
		a.logger.Info("schema migrated", "applied", applied, "version", migrations.Latest())
	}
	changes, err := m.Converge(ctx)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	for _, c := range changes {
		a.logger.Info("schema converged", "table", c.Table, "what", c.What, "from", c.From, "to", c.To)
	}
	return s, nil
}

func (a *app) migrationOptions(s store.Store) migrations.Options {
	return migrations.Options{Cluster: s.Info().Cluster, DedupWindow: a.cfg.Store.Embedded.DedupWindow, Retention: a.cfg.Retention}
}

// heldBy reports the furrow process holding the embedded data directory,
// if the error says another process holds it.
func heldBy(err error) (*embedded.LockedError, bool) {
	var le *embedded.LockedError
	if errors.As(err, &le) {
		return le, true
	}
	return nil, false
}
