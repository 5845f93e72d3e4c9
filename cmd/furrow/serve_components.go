package main

import (
	"context"
	"fmt"
	"log/slog"
)

// component is the lifecycle every part of `furrow serve` has: built inert
// by its package's New, started in order, stopped in reverse.
type component interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

// components starts components in the order they are added and stops the
// started ones in reverse. It holds no domain logic: each component runs
// its own goroutines.
type components struct {
	logger  *slog.Logger
	started []namedComponent
}

type namedComponent struct {
	name string
	c    component
}

// start starts c, or records nothing when it fails.
func (cs *components) start(ctx context.Context, name string, c component) error {
	if err := c.Start(ctx); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	cs.started = append(cs.started, namedComponent{name, c})
	return nil
}

// stopAll stops the started components in reverse order; a component that
// fails to stop is logged and the others still stop.
func (cs *components) stopAll(ctx context.Context) {
	for i := len(cs.started) - 1; i >= 0; i-- {
		nc := cs.started[i]
		if err := nc.c.Stop(ctx); err != nil {
			cs.logger.Error("stop component", "component", nc.name, "err", err)
		}
	}
	cs.started = nil
}
