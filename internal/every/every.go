// Package every runs a component's periodic work: once at start, then
// every interval, until stopped. Stop waits for the run in progress, so a
// component's Stop returns with nothing of it still running.
package every

import (
	"context"
	"time"
)

// Loop is a started schedule.
type Loop struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// Start runs fn at once and then every interval in a goroutine, with a
// context that outlives ctx's cancellation (Stop ends it), until Stop.
func Start(ctx context.Context, interval time.Duration, fn func(context.Context)) *Loop {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	l := &Loop{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			fn(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return l
}

// Stop cancels the schedule's context and waits for the run in progress,
// or for ctx. A nil Loop (never started) stops at once.
func (l *Loop) Stop(ctx context.Context) error {
	if l == nil {
		return nil
	}
	l.cancel()
	select {
	case <-l.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
