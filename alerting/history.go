package alerting

// History: every alert received and every delivery attempt, written to
// ClickHouse (alert_events, alert_deliveries; migration 0015) for the
// per-namespace history, the overall view and time-to-resolve
// (alert_incidents). The operational store decides what to send; this is
// the record analysts query, never read back by the pipeline.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/ClickHouse/ch-go/proto"

	"github.com/furrowdev/furrow/store"
)

// The history tables (migrations/sql/0015_alerts.sql).
const (
	EventsTable     = "alert_events"
	DeliveriesTable = "alert_deliveries"
)

// Kinds of history rows besides the outbox's (KindPost, KindUpdate,
// KindReply, KindRemind): a group snoozed, or suppressed (received again
// with nothing new to send), is recorded but not sent.
const (
	KindSnoozed    = "snoozed"
	KindSuppressed = "suppressed"
)

// Outcomes of a delivery attempt in alert_deliveries.
const (
	AttemptOK     = "ok"
	AttemptRetry  = "retry"  // failed, will be tried again
	AttemptFailed = "failed" // given up (a 4xx, or retries exhausted)
)

// maxErrorBytes bounds the error text of a delivery row: Slack's errors
// are a few words, a longer one is a body echoed back and not worth
// storing whole.
const maxErrorBytes = 1024

// ErrBadDelivery is wrapped by RecordDelivery's refusal of a record that
// cannot be stored (unknown kind or status, no time, no group key).
var ErrBadDelivery = errors.New("bad delivery record")

// DeliveryRecord is the outcome of one delivery attempt.
type DeliveryRecord struct {
	// At is when the attempt ended.
	At time.Time
	// DeliveryID names the outbox entry (its id); attempts of one entry
	// share it.
	DeliveryID string
	GroupKey   string
	Namespace  string
	AlertName  string
	// Kind is post, update, reply, remind, report, snoozed or suppressed.
	Kind    string
	Channel string
	// Status is ok, retry or failed.
	Status string
	// Error says why the attempt failed. It must never carry a secret:
	// the deliverer's errors (slack.go) never do.
	Error string
	// Lag runs from the webhook's acceptance to the Slack call.
	Lag time.Duration
}

// History writes alerts and delivery outcomes to ClickHouse.
type History struct {
	s store.Store

	mu sync.Mutex
	q  *historyQueue // between Start and Stop (history_queue.go)
}

// NewHistory returns a History writing to s, migrated to 0015 or later.
func NewHistory(s store.Store) *History { return &History{s: s} }

// NotificationID is the id of a webhook body: its SHA-256 in hex.
func NotificationID(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// RecordEvents stores one alert_events row per alert of groups (the split
// of n), received at receivedAt in the webhook body body. The insert's
// deduplication token is derived from the source and the body's hash, so
// the same body received again (a sender's retry, even at another
// receivedAt) stores nothing new within the table's deduplication window.
// Between Start and Stop the rows are queued and inserted within 200 ms,
// a body received again among the last 10,000 queued once.
func (h *History) RecordEvents(ctx context.Context, n Notification, groups []Group, receivedAt time.Time, body []byte) error {
	id := NotificationID(body)
	if q := h.queue(); q != nil {
		return q.enqueueEvents(ctx, n, groups, receivedAt, id)
	}
	b := eventsBlock(n, groups, receivedAt, id)
	if b.Rows() == 0 {
		return nil
	}
	if err := h.s.Insert(ctx, EventsTable, b, historyToken(EventsTable, n.Source, id)); err != nil {
		return fmt.Errorf("insert %d alerts into %s: %w", b.Rows(), EventsTable, err)
	}
	return nil
}

// RecordDelivery stores one alert_deliveries row. Its token is derived
// from the whole record, so recording the same outcome twice (a retry of
// this call) stores it once.
func (h *History) RecordDelivery(ctx context.Context, d DeliveryRecord) error {
	if err := d.validate(); err != nil {
		return err
	}
	if q := h.queue(); q != nil {
		return q.enqueueDelivery(ctx, d)
	}
	b, tok := deliveryBlock(d)
	if err := h.s.Insert(ctx, DeliveriesTable, b, tok); err != nil {
		return fmt.Errorf("insert into %s: %w", DeliveriesTable, err)
	}
	return nil
}

func (d DeliveryRecord) validate() error {
	switch d.Kind {
	case KindPost, KindUpdate, KindReply, KindRemind, KindReport, KindSnoozed, KindSuppressed:
	default:
		return fmt.Errorf("%w: kind %q is not post, update, reply, remind, report, snoozed or suppressed", ErrBadDelivery, d.Kind)
	}
	switch d.Status {
	case AttemptOK, AttemptRetry, AttemptFailed:
	default:
		return fmt.Errorf("%w: status %q is not ok, retry or failed", ErrBadDelivery, d.Status)
	}
	if d.At.IsZero() {
		return fmt.Errorf("%w: no time", ErrBadDelivery)
	}
	if d.GroupKey == "" {
		return fmt.Errorf("%w: no group key", ErrBadDelivery)
	}
	return nil
}

// historyToken hashes its parts, each length-prefixed, into a deduplication
// token.
func historyToken(parts ...string) string { return store.Token(parts...) }

func newDateTime64Col() *proto.ColDateTime64 {
	return new(proto.ColDateTime64).WithPrecision(proto.PrecisionMilli).WithLocation(time.UTC)
}

func newLowCardinalityCol() *proto.ColLowCardinality[string] {
	return proto.NewLowCardinality[string](new(proto.ColStr))
}

func newStringMap() *proto.ColMap[string, string] {
	return proto.NewMap[string, string](new(proto.ColStr), new(proto.ColStr))
}

// dbTime is t as a nullable DateTime64: NULL when zero (absent) or
// outside what DateTime64 holds (1900 to 2299), which only a broken
// sender's clock gives.
func dbTime(t time.Time) proto.Nullable[time.Time] {
	if t.IsZero() || t.Year() < 1900 || t.Year() > 2299 {
		return proto.Null[time.Time]()
	}
	return proto.NewNullable(t.UTC())
}

// eventsBlock encodes the alerts of groups as an alert_events block.
func eventsBlock(n Notification, groups []Group, receivedAt time.Time, id string) store.Block {
	c := newEventCols()
	c.add(n, groups, receivedAt, id)
	return c.block()
}

// eventCols are alert_events' columns, filled by add, one notification at
// a time (the background writer puts many in one block).
type eventCols struct {
	received                     *proto.ColDateTime64
	source, receiver             *proto.ColLowCardinality[string]
	groupKey, fingerprint        *proto.ColStr
	namespace, alertname, status *proto.ColLowCardinality[string]
	startsAt, endsAt             *proto.ColNullable[time.Time]
	labels, annotations          *proto.ColMap[string, string]
	value                        *proto.ColNullable[float64]
	generatorURL, notificationID *proto.ColStr
	rows                         int
}

func newEventCols() *eventCols {
	return &eventCols{
		received: newDateTime64Col(),
		source:   newLowCardinalityCol(), receiver: newLowCardinalityCol(),
		groupKey: new(proto.ColStr), fingerprint: new(proto.ColStr),
		namespace: newLowCardinalityCol(), alertname: newLowCardinalityCol(), status: newLowCardinalityCol(),
		startsAt: proto.NewColNullable[time.Time](newDateTime64Col()),
		endsAt:   proto.NewColNullable[time.Time](newDateTime64Col()),
		labels:   newStringMap(), annotations: newStringMap(),
		value:        proto.NewColNullable[float64](new(proto.ColFloat64)),
		generatorURL: new(proto.ColStr), notificationID: new(proto.ColStr),
	}
}

// add appends one row per alert of groups.
func (c *eventCols) add(n Notification, groups []Group, receivedAt time.Time, id string) {
	receivedUTC := receivedAt.UTC()
	for _, g := range groups {
		for _, a := range g.Alerts {
			c.rows++
			c.received.Append(receivedUTC)
			c.source.Append(n.Source)
			c.receiver.Append(n.Receiver)
			c.groupKey.Append(g.Key)
			c.namespace.Append(g.Namespace)
			c.alertname.Append(g.AlertName)
			c.fingerprint.Append(a.Fingerprint)
			c.status.Append(a.Status)
			c.startsAt.Append(dbTime(a.StartsAt))
			c.endsAt.Append(dbTime(a.EndsAt))
			c.labels.Append(nonNil(a.Labels))
			c.annotations.Append(nonNil(a.Annotations))
			if v, ok := alertValue(a, ""); ok && !math.IsInf(v, 0) {
				c.value.Append(proto.NewNullable(v))
			} else {
				c.value.Append(proto.Null[float64]())
			}
			c.generatorURL.Append(a.GeneratorURL)
			c.notificationID.Append(id)
		}
	}
}

func (c *eventCols) block() store.Block {
	return store.Block{Columns: proto.Input{
		{Name: "received_at", Data: c.received},
		{Name: "source", Data: c.source},
		{Name: "receiver", Data: c.receiver},
		{Name: "group_key", Data: c.groupKey},
		{Name: "namespace", Data: c.namespace},
		{Name: "alertname", Data: c.alertname},
		{Name: "fingerprint", Data: c.fingerprint},
		{Name: "status", Data: c.status},
		{Name: "starts_at", Data: c.startsAt},
		{Name: "ends_at", Data: c.endsAt},
		{Name: "labels", Data: c.labels},
		{Name: "annotations", Data: c.annotations},
		{Name: "value", Data: c.value},
		{Name: "generator_url", Data: c.generatorURL},
		{Name: "notification_id", Data: c.notificationID},
	}}
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// deliveryBlock encodes d as a one-row alert_deliveries block, with the
// token of its content.
func deliveryBlock(d DeliveryRecord) (store.Block, string) {
	c := newDeliveryCols()
	tok := c.add(d)
	return c.block(), tok
}

// deliveryCols are alert_deliveries' columns, filled by add.
type deliveryCols struct {
	at                            *proto.ColDateTime64
	deliveryID, groupKey, errText *proto.ColStr
	namespace, alertname          *proto.ColLowCardinality[string]
	kind, channel, status         *proto.ColLowCardinality[string]
	lag                           *proto.ColUInt64
}

func newDeliveryCols() *deliveryCols {
	return &deliveryCols{
		at:         newDateTime64Col(),
		deliveryID: new(proto.ColStr), groupKey: new(proto.ColStr), errText: new(proto.ColStr),
		namespace: newLowCardinalityCol(), alertname: newLowCardinalityCol(),
		kind: newLowCardinalityCol(), channel: newLowCardinalityCol(), status: newLowCardinalityCol(),
		lag: new(proto.ColUInt64),
	}
}

// add appends d and returns the token of its content.
func (c *deliveryCols) add(d DeliveryRecord) string {
	ms := d.At.UTC().Truncate(time.Millisecond)
	lagMS := uint64(0)
	if d.Lag > 0 {
		lagMS = uint64(d.Lag / time.Millisecond)
	}
	e := truncateUTF8(d.Error, maxErrorBytes)
	c.at.Append(ms)
	c.deliveryID.Append(d.DeliveryID)
	c.groupKey.Append(d.GroupKey)
	c.namespace.Append(d.Namespace)
	c.alertname.Append(d.AlertName)
	c.kind.Append(d.Kind)
	c.channel.Append(d.Channel)
	c.status.Append(d.Status)
	c.errText.Append(e)
	c.lag.Append(lagMS)
	return historyToken(DeliveriesTable, ms.Format(time.RFC3339Nano), d.DeliveryID, d.GroupKey, d.Namespace, d.AlertName,
		d.Kind, d.Channel, d.Status, e, fmt.Sprint(lagMS))
}

func (c *deliveryCols) block() store.Block {
	return store.Block{Columns: proto.Input{
		{Name: "at", Data: c.at},
		{Name: "delivery_id", Data: c.deliveryID},
		{Name: "group_key", Data: c.groupKey},
		{Name: "namespace", Data: c.namespace},
		{Name: "alertname", Data: c.alertname},
		{Name: "kind", Data: c.kind},
		{Name: "channel", Data: c.channel},
		{Name: "status", Data: c.status},
		{Name: "error", Data: c.errText},
		{Name: "lag_ms", Data: c.lag},
	}}
}

// truncateUTF8 cuts s to at most n bytes without splitting a character,
// marking the cut with "…".
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
