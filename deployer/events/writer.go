package events

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/ClickHouse/ch-go/proto"

	"github.com/furrowdev/furrow/store"
)

// Writer inserts deploy events into deploy_events. It is safe for
// concurrent use.
type Writer struct {
	s store.Store
}

// NewWriter returns a Writer to s, migrated to 0016 or later.
func NewWriter(s store.Store) *Writer { return &Writer{s: s} }

// Write validates e and stores it. The insert's deduplication token is
// the row's content (for an external event, its source and external id),
// so a retried Write, or a webhook delivered again, stores one row.
func (w *Writer) Write(ctx context.Context, e Event) error {
	return w.WriteBatch(ctx, []Event{e})
}

// WriteBatch validates every event and stores them in one insert; one
// invalid event refuses the batch (nothing is stored), its index named.
// The token is derived from every row's token, in order.
func (w *Writer) WriteBatch(ctx context.Context, evs []Event) error {
	if len(evs) == 0 {
		return nil
	}
	c := newCols()
	tokens := make([]string, 0, len(evs))
	for i, e := range evs {
		n, err := e.Normalize()
		if err != nil {
			if len(evs) == 1 {
				return err
			}
			return fmt.Errorf("event %d: %w", i+1, err)
		}
		c.add(n)
		tokens = append(tokens, Token(n))
	}
	tok := tokens[0]
	if len(tokens) > 1 {
		tok = hashParts(tokens...)
	}
	if err := w.s.Insert(ctx, Table, c.block(), tok); err != nil {
		return fmt.Errorf("insert %d deploy events: %w", len(evs), err)
	}
	return nil
}

// Token is the deduplication token of a normalized event: its source and
// external id when it has one (the same external event received again,
// at another time, is the same event), else its whole content.
func Token(e Event) string {
	if e.ExternalID != "" {
		return hashParts(Table, e.Source, e.ExternalID)
	}
	return hashParts(Table, e.Source, strconv.FormatInt(e.DeployID, 10), e.Project, e.Service, e.Team, e.Environment,
		e.Region, e.Cluster, e.Action, e.Result, e.FailureCause, e.Message, e.Revision, e.Image, e.PreviousImage,
		e.Actor, e.ActorName, timeText(e.At), timeText(e.StartedAt), timeText(e.FinishedAt), e.CommitSHA,
		timeText(e.CommitTime), replicasText(e.ReplicasFrom), replicasText(e.ReplicasTo))
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func replicasText(r *int32) string {
	if r == nil {
		return "-"
	}
	return strconv.Itoa(int(*r))
}

// hashParts hashes its parts, each length-prefixed, into a token.
func hashParts(parts ...string) string { return store.Token(parts...) }

// cols are deploy_events' columns.
type cols struct {
	at, startedAt                      *proto.ColDateTime64
	deployID                           *proto.ColInt64
	source, project, service, team     *proto.ColLowCardinality[string]
	environment, region, cluster       *proto.ColLowCardinality[string]
	action, result, cause              *proto.ColLowCardinality[string]
	message, revision, image, previous *proto.ColStr
	actor, actorName, commitSHA, extID *proto.ColStr
	finishedAt, commitTime             *proto.ColNullable[time.Time]
	durationMS                         *proto.ColUInt64
	replicasFrom, replicasTo           *proto.ColNullable[int32]
}

func dt64() *proto.ColDateTime64 {
	return new(proto.ColDateTime64).WithPrecision(proto.PrecisionMilli).WithLocation(time.UTC)
}

func lc() *proto.ColLowCardinality[string] { return proto.NewLowCardinality[string](new(proto.ColStr)) }

func newCols() *cols {
	return &cols{
		at: dt64(), startedAt: dt64(), deployID: new(proto.ColInt64),
		source: lc(), project: lc(), service: lc(), team: lc(), environment: lc(), region: lc(), cluster: lc(),
		action: lc(), result: lc(), cause: lc(),
		message: new(proto.ColStr), revision: new(proto.ColStr), image: new(proto.ColStr), previous: new(proto.ColStr),
		actor: new(proto.ColStr), actorName: new(proto.ColStr), commitSHA: new(proto.ColStr), extID: new(proto.ColStr),
		finishedAt: proto.NewColNullable[time.Time](dt64()), commitTime: proto.NewColNullable[time.Time](dt64()),
		durationMS:   new(proto.ColUInt64),
		replicasFrom: proto.NewColNullable[int32](new(proto.ColInt32)), replicasTo: proto.NewColNullable[int32](new(proto.ColInt32)),
	}
}

func nullTime(t time.Time) proto.Nullable[time.Time] {
	if t.IsZero() {
		return proto.Null[time.Time]()
	}
	return proto.NewNullable(t)
}

func nullInt(v *int32) proto.Nullable[int32] {
	if v == nil {
		return proto.Null[int32]()
	}
	return proto.NewNullable(*v)
}

// add appends a normalized event.
func (c *cols) add(e Event) {
	c.at.Append(e.At)
	c.deployID.Append(e.DeployID)
	c.source.Append(e.Source)
	c.project.Append(e.Project)
	c.service.Append(e.Service)
	c.team.Append(e.Team)
	c.environment.Append(e.Environment)
	c.region.Append(e.Region)
	c.cluster.Append(e.Cluster)
	c.action.Append(e.Action)
	c.result.Append(e.Result)
	c.cause.Append(e.FailureCause)
	c.message.Append(e.Message)
	c.revision.Append(e.Revision)
	c.image.Append(e.Image)
	c.previous.Append(e.PreviousImage)
	c.actor.Append(e.Actor)
	c.actorName.Append(e.ActorName)
	c.startedAt.Append(e.StartedAt)
	c.finishedAt.Append(nullTime(e.FinishedAt))
	c.durationMS.Append(uint64(e.Duration() / time.Millisecond))
	c.commitSHA.Append(e.CommitSHA)
	c.commitTime.Append(nullTime(e.CommitTime))
	c.replicasFrom.Append(nullInt(e.ReplicasFrom))
	c.replicasTo.Append(nullInt(e.ReplicasTo))
	c.extID.Append(e.ExternalID)
}

func (c *cols) block() store.Block {
	return store.Block{Columns: proto.Input{
		{Name: "at", Data: c.at},
		{Name: "deploy_id", Data: c.deployID},
		{Name: "source", Data: c.source},
		{Name: "project", Data: c.project},
		{Name: "service", Data: c.service},
		{Name: "team", Data: c.team},
		{Name: "environment", Data: c.environment},
		{Name: "region", Data: c.region},
		{Name: "cluster", Data: c.cluster},
		{Name: "action", Data: c.action},
		{Name: "result", Data: c.result},
		{Name: "failure_cause", Data: c.cause},
		{Name: "message", Data: c.message},
		{Name: "revision", Data: c.revision},
		{Name: "image", Data: c.image},
		{Name: "previous_image", Data: c.previous},
		{Name: "actor", Data: c.actor},
		{Name: "actor_name", Data: c.actorName},
		{Name: "started_at", Data: c.startedAt},
		{Name: "finished_at", Data: c.finishedAt},
		{Name: "duration_ms", Data: c.durationMS},
		{Name: "commit_sha", Data: c.commitSHA},
		{Name: "commit_time", Data: c.commitTime},
		{Name: "replicas_from", Data: c.replicasFrom},
		{Name: "replicas_to", Data: c.replicasTo},
		{Name: "external_id", Data: c.extID},
	}}
}
