package demo

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/furrowdev/furrow/deployer/events"
)

// The demo's deploy history: what the deployer would have recorded over
// the data set's days, as DIR/deploy-events.jsonl (one deploy_events row a
// line; furrow deploy events load). Every owned project deploys during
// working hours (09:00-18:00 UTC), one to three times a day, by people of
// its team; on top, on purpose:
//   - checkout's deploy at LocalityFrom, turning locality load balancing on
//     (the cross-zone report's change);
//   - search: an ImagePullBackOff (a tag that was never pushed), fixed by
//     the next deploy 25 minutes later;
//   - cart: a CrashLoopBackOff, rolled back 8 minutes later;
//   - recommendations: failing readiness probes, then a fix;
//   - orders: a rollout Timeout, and a LockConflict (a second deploy while
//     the first ran);
//   - restarts (payments, frontend, search), scale-out and back of checkout
//     around the evening peak, and CronJob triggers (orders' reconcile,
//     observability's report).

// DeployEventsFile is the demo's deploy history, under the data set's
// directory.
const DeployEventsFile = "deploy-events.jsonl"

// demoDeployer builds the history.
type demoDeployer struct {
	r      rng
	id     int64
	images map[string]string // project → the image running
	out    []events.Event
}

// ownerOf returns the team and people of a project.
func ownerOf(project string) (string, [][2]string) {
	for _, t := range demoTeams {
		for _, p := range t.projects {
			if p.id == project {
				return t.code, t.people
			}
		}
	}
	return "", nil
}

// action appends one action's started and result rows; it returns the
// action's end.
func (d *demoDeployer) action(project, kind string, start time.Time, took time.Duration, result, cause, msg string, edit func(*events.Event)) time.Time {
	d.id++
	team, people := ownerOf(project)
	who := people[d.r.pick(len(people))]
	e := events.Event{DeployID: d.id, Source: events.SourceFurrow, Project: project, Service: project, Team: team,
		Environment: "production", Region: Region, Cluster: ClusterName, Action: kind, Result: events.ResultStarted,
		Actor: who[0], ActorName: who[1], StartedAt: start, Image: d.images[project], PreviousImage: d.images[project]}
	if kind == events.ActionDeploy {
		sha := d.r.hex(40)
		e.CommitSHA, e.Revision = sha, sha[:12]
		e.CommitTime = start.Add(-time.Duration(20+d.r.pick(340)) * time.Minute)
		e.Image = "registry.example.com/" + project + ":" + sha[:7]
	}
	if edit != nil {
		edit(&e)
	}
	d.out = append(d.out, e)
	end := start.Add(took)
	e.Result, e.FinishedAt, e.FailureCause, e.Message = result, end, cause, msg
	d.out = append(d.out, e)
	if result == events.ResultSucceeded && (kind == events.ActionDeploy || kind == events.ActionRollback) {
		d.images[project] = e.Image
	}
	return end
}

// deployEvents is the demo's history over [o.Start, o.end()).
func deployEvents(o Options) []events.Event {
	d := &demoDeployer{r: newRNG(o.Seed, 1<<41), images: map[string]string{}}
	var projects []string
	for _, t := range demoTeams {
		for _, p := range t.projects {
			projects = append(projects, p.id)
			d.images[p.id] = "registry.example.com/" + p.id + ":" + d.r.hex(7)
		}
	}
	ok := events.ResultSucceeded
	took := func() time.Duration { return time.Duration(60+d.r.pick(300)) * time.Second }
	// Routine deploys: one to three per project and day, in working hours.
	for day := range o.Days {
		base := o.Start.Add(time.Duration(day) * 24 * time.Hour)
		for _, p := range projects {
			for range 1 + d.r.pick(3) {
				at := base.Add(9*time.Hour + time.Duration(d.r.pick(9*60))*time.Minute)
				d.action(p, events.ActionDeploy, at, took(), ok, "", "", nil)
			}
		}
	}
	day := func(n int, hh, mm int) time.Time {
		return o.Start.Add(time.Duration(n)*24*time.Hour + time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute)
	}
	last := o.Days - 1
	d.action("checkout", events.ActionDeploy, o.LocalityFrom, 3*time.Minute, ok, "", "traffic: locality load balancing on (istio DestinationRule localityLbSetting)", nil)
	end := d.action("search", events.ActionDeploy, day(0, 11, 5), 10*time.Minute, events.ResultFailed, events.CauseImagePullBackOff,
		`Back-off pulling image "registry.example.com/search:5d1e0aa": not found`, func(e *events.Event) { e.Image = "registry.example.com/search:5d1e0aa" })
	d.action("search", events.ActionDeploy, end.Add(15*time.Minute), 4*time.Minute, ok, "", "", nil)
	end = d.action("cart", events.ActionDeploy, day(0, 15, 40), 6*time.Minute, events.ResultFailed, events.CauseCrashLoopBackOff,
		"container cart: back-off 40s restarting failed container\npanic: nil map assignment in cart.(*Store).Add", nil)
	d.action("cart", events.ActionRollback, end.Add(2*time.Minute), 90*time.Second, ok, "", "", func(e *events.Event) {
		e.Image, e.PreviousImage = e.PreviousImage, "registry.example.com/cart:broken"
	})
	end = d.action("recommendations", events.ActionDeploy, day(last, 10, 20), 7*time.Minute, events.ResultFailed, events.CauseProbeFailing,
		"readiness probe failed: HTTP probe failed with statuscode: 503", nil)
	d.action("recommendations", events.ActionDeploy, end.Add(40*time.Minute), 5*time.Minute, ok, "", "", nil)
	d.action("orders", events.ActionDeploy, day(last, 14, 0), 10*time.Minute, events.ResultFailed, events.CauseTimeout,
		"rollout did not finish within 10m: 2 of 4 replicas updated", nil)
	d.action("orders", events.ActionDeploy, day(last, 14, 3), 0, events.ResultFailed, events.CauseLockConflict,
		"deploy in progress since 14:00:00 by another deploy of orders/production", nil)
	d.action("orders", events.ActionDeploy, day(last, 14, 45), 4*time.Minute, ok, "", "", nil)
	for i, p := range []string{"payments", "frontend", "search"} {
		d.action(p, events.ActionRestart, day(i%o.Days, 13+i, 10), 50*time.Second, ok, "", "", nil)
	}
	scale := func(from, to int32) func(*events.Event) {
		return func(e *events.Event) { e.ReplicasFrom, e.ReplicasTo = &from, &to }
	}
	d.action("checkout", events.ActionScale, day(0, 18, 30), 20*time.Second, ok, "", "", scale(4, 8))
	d.action("checkout", events.ActionScale, day(0, 22, 0), 15*time.Second, ok, "", "", scale(8, 4))
	d.action("frontend", events.ActionScale, day(last, 18, 45), 20*time.Second, ok, "", "", scale(3, 6))
	d.action("orders", events.ActionCronJobTrigger, day(0, 9, 30), 2*time.Minute, ok, "", "job orders-reconcile-manual-7xk2p: 1,204 orders reconciled", nil)
	d.action("observability", events.ActionCronJobTrigger, day(last, 8, 0), 45*time.Second, ok, "", "job report-manual-q9d4s completed", nil)
	sort.SliceStable(d.out, func(i, j int) bool { return at(d.out[i]).Before(at(d.out[j])) })
	return d.out
}

// at is when an event's row happened.
func at(e events.Event) time.Time {
	if !e.FinishedAt.IsZero() {
		return e.FinishedAt
	}
	return e.StartedAt
}

// writeDeployEvents writes DIR/deploy-events.jsonl and returns its rows.
func (d *dataset) writeDeployEvents(dir string) (int, error) {
	evs := deployEvents(d.o)
	var b bytes.Buffer
	for _, e := range evs {
		line, err := json.Marshal(e)
		if err != nil {
			return 0, err
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return len(evs), os.WriteFile(filepath.Join(dir, DeployEventsFile), b.Bytes(), 0o644)
}

// deployTruth counts the demo's actions by kind and result, as
// deploy_actions gives them ("deploy/failed": 5).
func deployTruth(evs []events.Event) map[string]int {
	out := map[string]int{}
	for _, e := range evs {
		if e.Result != events.ResultStarted {
			out[strings.Join([]string{e.Action, e.Result}, "/")]++
		}
	}
	return out
}
