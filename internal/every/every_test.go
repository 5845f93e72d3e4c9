package every

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLoop(t *testing.T) {
	var runs atomic.Int32
	started := make(chan struct{}, 100)
	ctx, cancel := context.WithCancel(context.Background())
	l := Start(ctx, 5*time.Millisecond, func(ctx context.Context) {
		runs.Add(1)
		started <- struct{}{}
	})
	<-started // at once, not after the first interval
	cancel()  // the caller's context ending does not stop the schedule
	<-started
	require.NoError(t, l.Stop(context.Background()))
	n := runs.Load()
	time.Sleep(20 * time.Millisecond)
	require.Equal(t, n, runs.Load(), "no run after Stop")
	var never *Loop
	require.NoError(t, never.Stop(context.Background()))
}

func TestStopWaitsForTheRun(t *testing.T) {
	release := make(chan struct{})
	inRun := make(chan struct{})
	l := Start(context.Background(), time.Hour, func(ctx context.Context) {
		close(inRun)
		<-release
	})
	<-inRun
	short, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, l.Stop(short), context.DeadlineExceeded, "the run still holds")
	close(release)
	require.NoError(t, l.Stop(context.Background()))
}
