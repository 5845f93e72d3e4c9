package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/furrowdev/furrow/deployer/events"
	"github.com/furrowdev/furrow/internal/testenv/chtest"
	"github.com/furrowdev/furrow/migrations"
)

// TestDeployEvents: the demo's history is valid line by line, holds what
// its dashboards show (each failure cause, a rollback, restarts, scale
// events, CronJob triggers, checkout's locality deploy), is the same for
// the same seed, and loaded into the real table, deploy_actions gives the
// counts of the ground truth.
func TestDeployEvents(t *testing.T) {
	d, err := prepare(Options{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	evs := deployEvents(d.o)
	var buf bytes.Buffer
	for _, e := range evs {
		b, _ := json.Marshal(e)
		buf.Write(b)
		buf.WriteByte('\n')
		if _, err := events.ParseLine(b); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if e.StartedAt.Before(d.o.Start) || !at(e).Before(d.o.end()) {
			t.Errorf("event outside the data set's days: %+v", e)
		}
	}
	again := deployEvents(d.o)
	if len(again) != len(evs) || events.Token(again[len(again)-1]) != events.Token(evs[len(evs)-1]) {
		t.Error("the same seed gave another history")
	}
	truth := deployTruth(evs)
	causes := map[string]bool{}
	for _, e := range evs {
		causes[e.FailureCause] = true
	}
	for _, c := range []string{events.CauseImagePullBackOff, events.CauseCrashLoopBackOff, events.CauseProbeFailing, events.CauseTimeout, events.CauseLockConflict} {
		if !causes[c] {
			t.Errorf("no %s failure", c)
		}
	}
	for _, k := range []string{"rollback/succeeded", "restart/succeeded", "scale/succeeded", "cronjob_trigger/succeeded"} {
		if truth[k] == 0 {
			t.Errorf("no %s", k)
		}
	}
	if truth["deploy/succeeded"] < 24 || truth["deploy/failed"] != 5 {
		t.Errorf("deploys: %v", truth)
	}

	if testing.Short() {
		return
	}
	s := chtest.Store(t)
	ctx := context.Background()
	if _, err := migrations.New(s, migrations.Options{}).Up(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := events.NewWriter(s).Load(ctx, DeployEventsFile, &buf)
	if err != nil || len(rep.Bad) > 0 || rep.Written != len(evs) {
		t.Fatalf("load: %+v %v", rep, err)
	}
	var out strings.Builder
	if err := s.Query(ctx, &out, "SELECT concat(action, '/', result) AS k, count() FROM deploy_actions GROUP BY k", "JSONEachRow"); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var row struct {
			K string      `json:"k"`
			N json.Number `json:"count()"`
		}
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatal(err)
		}
		var n int
		if _, err := fmt.Sscan(row.N.String(), &n); err != nil {
			t.Fatal(err)
		}
		got[row.K] = n
	}
	if len(got) != len(truth) {
		t.Fatalf("deploy_actions %v, truth %v", got, truth)
	}
	for k, n := range truth {
		if got[k] != n {
			t.Errorf("%s: %d in deploy_actions, %d in the truth", k, got[k], n)
		}
	}
}
