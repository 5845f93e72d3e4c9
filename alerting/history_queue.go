package alerting

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The history's background writer. One insert per webhook into the
// embedded engine took the webhook path from ~1 ms to ~10 ms and
// serialized it behind the engine's insert slot (the alerting benchmark:
// 24 senders waited on it, 80% of the server's CPU in chDB, ~1,000
// alerts/s); one insert of everything received in 200 ms costs the same
// as one of a single webhook. The outbox stays the durable record: a 202
// still means the outbox committed, and the history follows within
// historyFlushEvery.
const (
	// historyFlushEvery is how often the queued rows are inserted.
	historyFlushEvery = 200 * time.Millisecond
	// historyFlushRows starts a flush before the tick.
	historyFlushRows = 5000
	// historyMaxRows bounds the queue: beyond it a webhook waits for the
	// flush in progress (as it waited for its own insert before).
	historyMaxRows = 50000
	// historySeen is how many recent webhook bodies the writer remembers
	// to store a body received again once, as the engine's deduplication
	// window (store.embedded.dedup_window's default) did for one insert
	// per body.
	historySeen = 10000
)

// historyQueue holds rows between flushes. Bodies are deduplicated here,
// by source and hash, since a batch's insert token covers the batch.
type historyQueue struct {
	h      *History
	logger *slog.Logger

	mu      sync.Mutex
	events  []queuedEvents
	dels    []DeliveryRecord
	rows    int
	flushed chan struct{} // closed when the queued rows are taken
	seen    map[string]struct{}
	order   []string // seen's keys, oldest first
	stopped bool

	kick chan struct{}
	stop chan struct{}
	done chan struct{}
}

type queuedEvents struct {
	n          Notification
	groups     []Group
	receivedAt time.Time
	id, key    string
}

func seenKey(source, id string) string { return source + "\x00" + id }

// Start makes RecordEvents and RecordDelivery queue their rows, inserted
// every 200 ms in the background, until Stop; before Start and after Stop
// they insert at once. It reads the latest bodies received, so that one
// received again after a restart is not stored twice.
func (h *History) Start(ctx context.Context, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	q := &historyQueue{h: h, logger: logger, flushed: make(chan struct{}), seen: map[string]struct{}{},
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	var b strings.Builder
	err := h.s.Query(ctx, &b, "SELECT source, id FROM (SELECT source, notification_id AS id, max(received_at) AS t FROM "+EventsTable+
		" GROUP BY source, notification_id ORDER BY t DESC LIMIT "+strconv.Itoa(historySeen)+") ORDER BY t", "TSV")
	if err != nil {
		logger.Warn("alerting: read the latest alerts received (a body received again may be stored twice)", "err", err)
	}
	for line := range strings.Lines(b.String()) {
		if src, id, ok := strings.Cut(strings.TrimSuffix(line, "\n"), "\t"); ok {
			q.remember(seenKey(src, id))
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.q != nil {
		return errors.New("alerting: history already started")
	}
	h.q = q
	go q.run()
	return nil
}

// Stop inserts what is queued and returns to inserting at once.
func (h *History) Stop(ctx context.Context) error {
	h.mu.Lock()
	q := h.q
	h.q = nil
	h.mu.Unlock()
	if q == nil {
		return nil
	}
	close(q.stop)
	select {
	case <-q.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *History) queue() *historyQueue {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.q
}

// remember adds key to the recent bodies, forgetting the oldest beyond
// historySeen. Callers hold mu (or own q).
func (q *historyQueue) remember(key string) {
	if _, ok := q.seen[key]; ok {
		return
	}
	q.seen[key] = struct{}{}
	q.order = append(q.order, key)
	if len(q.order) > historySeen {
		delete(q.seen, q.order[0])
		q.order = q.order[1:]
	}
}

func (q *historyQueue) forget(key string) {
	delete(q.seen, key)
}

// received reports whether a body is queued or was recently stored.
func (q *historyQueue) received(source, id string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	_, ok := q.seen[seenKey(source, id)]
	return ok
}

// add runs put under the lock once the queue has room for rows more,
// waiting for a flush while it is full.
func (q *historyQueue) add(ctx context.Context, rows int, put func()) error {
	for {
		q.mu.Lock()
		if q.rows < historyMaxRows || q.stopped {
			put()
			q.rows += rows
			full := q.rows >= historyFlushRows
			q.mu.Unlock()
			if full {
				q.wake()
			}
			return nil
		}
		wait := q.flushed
		q.mu.Unlock()
		q.wake()
		select {
		case <-wait:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (q *historyQueue) wake() {
	select {
	case q.kick <- struct{}{}:
	default:
	}
}

func (q *historyQueue) enqueueEvents(ctx context.Context, n Notification, groups []Group, receivedAt time.Time, id string) error {
	rows := 0
	for _, g := range groups {
		rows += len(g.Alerts)
	}
	if rows == 0 {
		return nil
	}
	key := seenKey(n.Source, id)
	return q.add(ctx, rows, func() {
		if _, ok := q.seen[key]; ok {
			return // stored or queued already: a sender's retry, a repeat
		}
		q.remember(key)
		q.events = append(q.events, queuedEvents{n: n, groups: groups, receivedAt: receivedAt, id: id, key: key})
	})
}

func (q *historyQueue) enqueueDelivery(ctx context.Context, d DeliveryRecord) error {
	return q.add(ctx, 1, func() { q.dels = append(q.dels, d) })
}

func (q *historyQueue) run() {
	defer close(q.done)
	t := time.NewTicker(historyFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-q.stop:
			q.mu.Lock()
			q.stopped = true
			q.mu.Unlock()
			q.flush()
			return
		case <-t.C:
		case <-q.kick:
		}
		q.flush()
	}
}

// flush inserts the queued rows: one alert_events block, one
// alert_deliveries block. A failure is logged and its rows dropped, as a
// failed insert was before (the history never fails a webhook); the
// bodies it held are forgotten, so that a retry is stored.
func (q *historyQueue) flush() {
	q.mu.Lock()
	events, dels := q.events, q.dels
	q.events, q.dels, q.rows = nil, nil, 0
	close(q.flushed)
	q.flushed = make(chan struct{})
	q.mu.Unlock()
	// The engine's own deadline bounds the inserts; Stop does not cancel
	// them, so that a clean stop loses nothing.
	ctx := context.Background()
	if len(events) > 0 {
		c := newEventCols()
		ids := make([]string, 0, len(events)+1)
		ids = append(ids, EventsTable)
		for _, e := range events {
			c.add(e.n, e.groups, e.receivedAt, e.id)
			ids = append(ids, e.key)
		}
		if c.rows > 0 {
			if err := q.h.s.Insert(ctx, EventsTable, c.block(), historyToken(ids...)); err != nil {
				q.logger.Warn("alerting: history of webhooks", "webhooks", len(events), "alerts", c.rows, "err", err)
				q.mu.Lock()
				for _, e := range events {
					q.forget(e.key)
				}
				q.mu.Unlock()
			}
		}
	}
	if len(dels) > 0 {
		c := newDeliveryCols()
		toks := make([]string, 0, len(dels)+1)
		toks = append(toks, DeliveriesTable)
		for _, d := range dels {
			toks = append(toks, c.add(d))
		}
		if err := q.h.s.Insert(ctx, DeliveriesTable, c.block(), historyToken(toks...)); err != nil {
			q.logger.Warn("alerting: history of deliveries", "deliveries", len(dels), "err", err)
		}
	}
}
