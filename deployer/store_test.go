package deployer

import (
	"context"
	"errors"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/internal/testenv/k8senv"
	"github.com/furrowdev/furrow/internal/testenv/pgtest"
	"github.com/furrowdev/furrow/state"
	"github.com/furrowdev/furrow/state/statetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	k8senv.StopShared()
	os.Exit(code)
}

var t0 = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

func rec(actor, name string) Record {
	return Record{Project: "payments-api", Environment: "prod", Action: ActionDeploy, Actor: actor, ActorName: name, Image: "registry/payments:1.4.2"}
}

func TestStoreLock(t *testing.T) {
	statetest.Each(t, func(t *testing.T, st *state.Store, _ state.Configuration, _ string) {
		ctx := context.Background()
		s := NewStore(st)

		a, err := s.Begin(ctx, rec("alice@example.com", "Alice Smith"), t0, time.Minute)
		require.NoError(t, err)
		require.Equal(t, StateRunning, a.State)

		// A second one, while the first runs: refused, with who and since when.
		b, err := s.Begin(ctx, rec("bob@example.com", "Bob Jones"), t0.Add(10*time.Second), time.Minute)
		var le *LockError
		require.ErrorAs(t, err, &le)
		require.Equal(t, a.ID, le.HolderID)
		require.Greater(t, b.ID, a.ID, "the refused request has its own id from the sequence")
		require.Equal(t, "deploy "+itoa(a.ID)+" by Alice Smith in progress since 2026-12-07T10:00:00Z", err.Error())
		got, err := s.Get(ctx, b.ID)
		require.NoError(t, err)
		require.Equal(t, StateRefused, got.State)
		require.Equal(t, "LockConflict", got.Cause)

		// Another environment is another lock.
		other := rec("bob@example.com", "Bob Jones")
		other.Environment = "staging"
		o, err := s.Begin(ctx, other, t0, time.Minute)
		require.NoError(t, err)
		require.NoError(t, s.Finish(ctx, withState(o, StateSucceeded), t0.Add(time.Minute)))

		// Renewed, still held past its first lease.
		ok, err := s.Renew(ctx, a, t0.Add(50*time.Second), time.Minute)
		require.NoError(t, err)
		require.True(t, ok)
		_, err = s.Begin(ctx, rec("bob@example.com", "Bob Jones"), t0.Add(70*time.Second), time.Minute)
		require.ErrorAs(t, err, &le)

		// Finished: the lock is free.
		require.NoError(t, s.Finish(ctx, withState(a, StateSucceeded), t0.Add(80*time.Second)))
		c, err := s.Begin(ctx, rec("bob@example.com", "Bob Jones"), t0.Add(90*time.Second), time.Minute)
		require.NoError(t, err)

		// A holder that died: its lease expires, the next one takes over
		// and the dead one is marked abandoned.
		d, err := s.Begin(ctx, rec("carol@example.com", ""), t0.Add(10*time.Minute), time.Minute)
		require.NoError(t, err)
		require.Equal(t, StateRunning, d.State)
		dead, err := s.Get(ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, StateFailed, dead.State)
		require.Equal(t, "Abandoned", dead.Cause)
		ok, err = s.Renew(ctx, c, t0.Add(10*time.Minute), time.Minute)
		require.NoError(t, err)
		require.False(t, ok, "the dead holder's renewal fails")
		_, err = s.Begin(ctx, rec("dave@example.com", ""), t0.Add(10*time.Minute+time.Second), time.Minute)
		require.ErrorAs(t, err, &le)
		require.Equal(t, "carol@example.com", le.HolderName, "no employee name: the token's subject")
	})
}

// TestStoreLockContention: many requests at once for one project and
// environment; exactly one runs, every other gets the LockError naming it.
func TestStoreLockContention(t *testing.T) {
	statetest.Each(t, func(t *testing.T, st *state.Store, _ state.Configuration, _ string) {
		ctx := context.Background()
		s := NewStore(st)
		const n = 24
		var wg sync.WaitGroup
		results := make([]Record, n)
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i], errs[i] = s.Begin(ctx, rec("user"+itoa(int64(i)), ""), t0, time.Minute)
			}()
		}
		wg.Wait()
		var winner int64
		for i := range n {
			if errs[i] == nil {
				require.Zero(t, winner, "two winners")
				winner = results[i].ID
			}
		}
		require.NotZero(t, winner)
		ids := map[int64]bool{}
		for i := range n {
			require.False(t, ids[results[i].ID], "ids are unique")
			ids[results[i].ID] = true
			if errs[i] != nil {
				var le *LockError
				require.True(t, errors.As(errs[i], &le), "%v", errs[i])
				require.Equal(t, winner, le.HolderID)
			}
		}
		list, err := s.List(ctx, "payments-api", "prod", 100)
		require.NoError(t, err)
		require.Len(t, list, n)
	})
}

func TestStoreHistory(t *testing.T) {
	statetest.Each(t, func(t *testing.T, st *state.Store, _ state.Configuration, _ string) {
		ctx := context.Background()
		s := NewStore(st)
		_, err := s.LastGood(ctx, "payments-api", "prod", 0)
		require.ErrorIs(t, err, ErrNotFound)

		first := rec("alice@example.com", "Alice Smith")
		first.SecretVersions = map[string]string{"db": "v-1"}
		first.Spec = "service: payments-api\n"
		a, err := s.Begin(ctx, first, t0, time.Minute)
		require.NoError(t, err)
		require.NoError(t, s.SetTarget(ctx, a.ID, TargetResult{Cluster: "eu-1", Region: "eu-west-1", State: StateRunning, StartedAt: t0}))
		require.NoError(t, s.SetTarget(ctx, a.ID, TargetResult{Cluster: "eu-1", Region: "eu-west-1", State: StateSucceeded, StartedAt: t0, FinishedAt: t0.Add(time.Minute)}))
		l1, err := s.AppendLog(ctx, a.ID, LogLine{At: t0, Stage: "render", Message: "3 objects"})
		require.NoError(t, err)
		l2, err := s.AppendLog(ctx, a.ID, LogLine{At: t0, Cluster: "eu-1", Stage: "rollout", Message: "2/3 ready"})
		require.NoError(t, err)
		require.Equal(t, []int64{1, 2}, []int64{l1.Seq, l2.Seq})
		require.NoError(t, s.Finish(ctx, withState(a, StateSucceeded), t0.Add(time.Minute)))

		second := rec("bob@example.com", "Bob Jones")
		second.Image = "registry/payments:1.5.0"
		b, err := s.Begin(ctx, second, t0.Add(time.Hour), time.Minute)
		require.NoError(t, err)
		failed := withState(b, StateFailed)
		failed.Cause, failed.Message = "CrashLoopBackOff", "payments-api-7d9f: back-off restarting failed container"
		require.NoError(t, s.Finish(ctx, failed, t0.Add(time.Hour+5*time.Minute)))

		good, err := s.LastGood(ctx, "payments-api", "prod", 0)
		require.NoError(t, err)
		require.Equal(t, a.ID, good.ID)
		require.Equal(t, "registry/payments:1.4.2", good.Image)
		require.Equal(t, map[string]string{"db": "v-1"}, good.SecretVersions)
		require.Equal(t, "service: payments-api\n", good.Spec)

		got, err := s.Get(ctx, a.ID)
		require.NoError(t, err)
		require.Len(t, got.Targets, 1)
		require.Equal(t, StateSucceeded, got.Targets[0].State)
		require.Equal(t, time.Minute, got.Duration())
		lines, err := s.Log(ctx, a.ID, 1)
		require.NoError(t, err)
		require.Len(t, lines, 1)
		require.Equal(t, "2/3 ready", lines[0].Message)

		list, err := s.List(ctx, "", "", 10)
		require.NoError(t, err)
		require.Equal(t, []int64{b.ID, a.ID}, []int64{list[0].ID, list[1].ID})
		require.Equal(t, "CrashLoopBackOff", list[0].Cause)
		_, err = s.Get(ctx, 999)
		require.ErrorIs(t, err, ErrNotFound)
	})
}

func withState(r Record, st string) Record {
	r.State = st
	return r
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }
