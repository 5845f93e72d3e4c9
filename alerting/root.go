package alerting

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/furrowdev/furrow/config"
	"github.com/furrowdev/furrow/internal/every"
	"github.com/furrowdev/furrow/internal/promreg"
	"github.com/furrowdev/furrow/state"
)

// Dependencies of the alerting component.
type Dependencies struct {
	// State is the operational store holding the outbox.
	State *state.Store
	// Owners answers who owns a cluster's namespace (the catalog's
	// OwnerOf adapted to Owner); nil: nobody owns anything.
	Owners func(cluster, namespace string) (Owner, bool)
	// Registry receives the metrics.
	Registry *prometheus.Registry
	// Logger; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// History, when set, receives every alert accepted and every delivery
	// outcome (ClickHouse: alert_events, alert_deliveries). Its failures
	// are logged, never fail a webhook or a delivery: the outbox is the
	// record that matters.
	History *History
}

// Component receives the webhooks, records their deliveries in the outbox
// and delivers them to Slack.
type Component struct {
	cfg    Configuration
	deps   Dependencies
	logger *slog.Logger
	rules  *Rules
	outbox *Outbox

	token, signingSecret config.Secret
	slack                *Slack

	loop       *every.Loop
	lastReport time.Time // the last report slot enqueued (reportDue)
	m          metrics
}

type metrics struct {
	received  *prometheus.CounterVec // alerts, by source
	rejected  *prometheus.CounterVec // webhook calls, by source and reason
	recorded  *prometheus.CounterVec // outbox rows added, by source
	delivered *prometheus.CounterVec // by kind
	retried   *prometheus.CounterVec // by kind
	failed    *prometheus.CounterVec // by kind and Slack's code
	recovered *prometheus.CounterVec // found posted after an interrupted attempt, by kind
	unchecked *prometheus.CounterVec // posted again without looking (the lookup failed), by kind
	depth     prometheus.Gauge
}

// New checks the configuration and builds the component; it reads the
// secret files but makes no call and starts nothing.
func New(cfg Configuration, deps Dependencies) (*Component, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.State == nil {
		return nil, errors.New("alerting: the operational store is required")
	}
	rules, err := NewRules(cfg.RulesConfiguration)
	if err != nil {
		return nil, fmt.Errorf("alerting: %w", err)
	}
	token, signing, err := cfg.Slack.ResolveSecrets()
	if err != nil {
		return nil, err
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Component{
		cfg: cfg, deps: deps, logger: logger, rules: rules,
		outbox: NewOutbox(deps.State),
		token:  token, signingSecret: signing,
		slack: NewSlack(cfg.Slack, token),
	}
	reg := deps.Registry
	opts := func(name, help string) prometheus.CounterOpts {
		return prometheus.CounterOpts{Namespace: "furrow", Subsystem: "alerting", Name: name, Help: help}
	}
	c.m = metrics{
		received:  promreg.Register(reg, prometheus.NewCounterVec(opts("alerts_received_total", "Alerts received in accepted webhook calls, by source."), []string{"source"})),
		rejected:  promreg.Register(reg, prometheus.NewCounterVec(opts("requests_rejected_total", "Webhook and interaction requests refused, by source and reason."), []string{"source", "reason"})),
		recorded:  promreg.Register(reg, prometheus.NewCounterVec(opts("deliveries_recorded_total", "Deliveries added to the outbox, by source."), []string{"source"})),
		delivered: promreg.Register(reg, prometheus.NewCounterVec(opts("deliveries_total", "Deliveries made to Slack, by kind."), []string{"kind"})),
		retried:   promreg.Register(reg, prometheus.NewCounterVec(opts("delivery_retries_total", "Deliveries that failed and will be retried, by kind."), []string{"kind"})),
		failed:    promreg.Register(reg, prometheus.NewCounterVec(opts("deliveries_failed_total", "Deliveries given up (Slack refused them), by kind and Slack's error."), []string{"kind", "code"})),
		recovered: promreg.Register(reg, prometheus.NewCounterVec(opts("deliveries_recovered_total", "Deliveries whose interrupted attempt (a crash, a timeout) had posted: found in the channel, not posted again, by kind."), []string{"kind"})),
		unchecked: promreg.Register(reg, prometheus.NewCounterVec(opts("deliveries_unchecked_total", "Deliveries posted again after an interrupted attempt without finding out whether it had posted (the channel could not be read), by kind."), []string{"kind"})),
		depth: promreg.Register(reg, prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "furrow", Subsystem: "alerting", Name: "outbox_pending",
			Help: "Deliveries waiting in the outbox, as of the worker's last run."})),
	}
	c.outbox.SetLease(cfg.ClaimLease)
	if token == "" {
		logger.Warn("alerting: no Slack token (alerting.slack.token or token_file): deliveries will fail")
	}
	return c, nil
}

// Outbox is the component's store, for the page and tests.
func (c *Component) Outbox() *Outbox { return c.outbox }

// Start launches the delivery worker: every delivery_interval it claims
// the due deliveries and makes them.
func (c *Component) Start(ctx context.Context) error {
	if c.deps.History != nil {
		// The history is written in the background from now on.
		if err := c.deps.History.Start(ctx, c.logger); err != nil {
			return err
		}
	}
	c.outbox.StartBatching()
	c.loop = every.Start(ctx, c.cfg.DeliveryInterval, c.Deliver)
	return nil
}

// Stop waits for the delivery in progress, then writes the history still
// queued.
func (c *Component) Stop(ctx context.Context) error {
	err := c.loop.Stop(ctx)
	c.outbox.StopBatching()
	if c.deps.History != nil {
		err = errors.Join(err, c.deps.History.Stop(ctx))
	}
	return err
}

// deliverBatch is how many deliveries one run claims.
const deliverBatch = 100

// Deliver makes the due deliveries, one at a time in the order they were
// recorded. The worker calls it; tests may too.
//
// A full batch is followed by the next at once, not after the worker's
// interval: a backlog drains as fast as Slack answers.
func (c *Component) Deliver(ctx context.Context) {
	c.reportDue(ctx, c.deps.Now())
	for {
		due, err := c.outbox.Due(ctx, c.deps.Now(), deliverBatch)
		if err != nil {
			c.logger.Error("alerting: read the outbox", "err", err)
		}
		for _, d := range due {
			if ctx.Err() != nil {
				return // claimed ones come due again after their lease
			}
			c.deliverOne(ctx, d)
		}
		if len(due) < deliverBatch || ctx.Err() != nil {
			break
		}
	}
	sctx, cancel := settleContext(ctx)
	defer cancel()
	if n, err := c.outbox.Pending(sctx); err == nil {
		c.m.depth.Set(float64(n))
	}
}

func (c *Component) deliverOne(ctx context.Context, d Delivery) {
	now := c.deps.Now()
	var channelID, ts string
	var err error
	switch d.Kind {
	case KindPost, KindRemind, KindReport:
		channelID, ts, err = c.post(ctx, d, d.Channel, "", now)
	case KindUpdate, KindReply:
		var ok bool
		channelID, ts, ok, err = c.outbox.MessageOf(ctx, d.GroupKey, d.Channel, d.Episode)
		if err != nil {
			c.logger.Error("alerting: read the outbox", "err", err)
			return
		}
		if !ok {
			pending, err := c.outbox.PostPending(ctx, d.GroupKey, d.Channel, d.Episode)
			switch {
			case err != nil:
				c.logger.Error("alerting: read the outbox", "err", err)
				return
			case pending:
				// The message it changes is not posted yet.
				if err := c.outbox.Wait(ctx, d.ID, now.Add(c.cfg.DeliveryInterval)); err != nil {
					c.logger.Error("alerting: outbox", "err", err)
				}
				return
			case d.Kind == KindUpdate:
				// Never posted (snoozed, or the post failed): post it now.
				d.Kind = KindPost
				channelID, ts, err = c.post(ctx, d, d.Channel, "", now)
			default:
				c.fail(ctx, d, "no", errors.New("no message to reply under (its post failed or was never made)"), now)
				return
			}
		} else if d.Kind == KindUpdate {
			err = c.slack.Update(ctx, channelID, ts, d.Blocks, d.Text)
		} else {
			// Done keeps the thread's message, not the reply's.
			_, _, err = c.post(ctx, d, channelID, ts, now)
		}
	default:
		c.fail(ctx, d, "unknown_kind", fmt.Errorf("unknown delivery kind %q", d.Kind), now)
		return
	}
	if err == nil {
		// What Slack did is recorded even when the worker is stopping: a
		// posted message left pending would be looked for again after the
		// restart, a needless call.
		sctx, cancel := settleContext(ctx)
		defer cancel()
		if err := c.outbox.Done(sctx, d, channelID, ts, c.deps.Now()); err != nil {
			c.logger.Error("alerting: record a delivery", "id", d.ID, "err", err)
			return
		}
		c.m.delivered.WithLabelValues(d.Kind).Inc()
		c.history(ctx, d, AttemptOK, nil, now)
		return
	}
	if ctx.Err() != nil {
		return // stopping: the lease ends, it comes due again
	}
	retry, after := Retryable(err)
	if !retry {
		code := "error"
		var se *SlackError
		if errors.As(err, &se) && se.Code != "" {
			code = se.Code
		} else if errors.As(err, &se) && se.Status != 0 {
			code = http.StatusText(se.Status)
		}
		c.fail(ctx, d, code, err, now)
		return
	}
	wait := backoff(d.Attempts, c.cfg.MaxBackoff)
	if after > wait {
		wait = after
	}
	c.m.retried.WithLabelValues(d.Kind).Inc()
	c.history(ctx, d, AttemptRetry, err, now)
	c.logger.Warn("alerting: Slack delivery failed, retrying", "id", d.ID, "kind", d.Kind, "channel", d.Channel, "attempt", d.Attempts+1, "in", wait, "err", err)
	again := c.outbox.Retry
	if NotPosted(err) {
		again = c.outbox.RetryNotSent
	}
	if err := again(ctx, d.ID, now.Add(wait), err.Error()); err != nil {
		c.logger.Error("alerting: outbox", "err", err)
	}
}

// settleContext is ctx without its cancellation, bounded: the outbox is
// told what happened even when the worker stops.
func settleContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
}

// findSkew is how far before an interrupted attempt FindDelivery looks,
// for the clocks of furrow and Slack, which stamps the message.
const findSkew = 5 * time.Minute

// post posts a delivery's message (in the thread of threadTS when set),
// exactly once: the attempt is recorded before the call (by Due's claim), and a
// delivery whose earlier attempt was interrupted (killed, timed out: it
// may have posted) first looks in the channel for the message carrying its
// dedup key, and takes it instead of posting again. When the channel
// cannot be read (a missing scope), it posts, and counts it.
func (c *Component) post(ctx context.Context, d Delivery, channel, threadTS string, now time.Time) (channelID, ts string, err error) {
	if !d.SentAt.IsZero() {
		id, err := c.channelID(ctx, channel)
		if err == nil {
			var found bool
			ts, found, err = c.slack.FindDelivery(ctx, id, threadTS, d.SentAt.Add(-findSkew), d.DedupKey)
			if err == nil && found {
				c.m.recovered.WithLabelValues(d.Kind).Inc()
				c.logger.Info("alerting: an interrupted delivery had posted; not posting it again", "id", d.ID, "kind", d.Kind, "channel", channel)
				return id, ts, nil
			}
		}
		if err != nil {
			if retry, _ := Retryable(err); retry {
				return "", "", err // Slack is unreachable: look again later
			}
			c.m.unchecked.WithLabelValues(d.Kind).Inc()
			c.logger.Warn("alerting: cannot tell whether an interrupted delivery posted (grant channels:history and channels:read to rule out a duplicate); posting it", "id", d.ID, "kind", d.Kind, "channel", channel, "err", err)
		}
	}
	return c.slack.PostDelivery(ctx, channel, d.Blocks, d.Text, threadTS, d.DedupKey)
}

// channelID is the Slack id of a channel name: known from an earlier
// delivery, else asked of Slack.
func (c *Component) channelID(ctx context.Context, channel string) (string, error) {
	if looksLikeChannelID(channel) {
		return channel, nil
	}
	if id, ok, err := c.outbox.ChannelIDOf(ctx, channel); err != nil || ok {
		return id, err
	}
	return c.slack.ChannelID(ctx, channel)
}

func (c *Component) fail(ctx context.Context, d Delivery, code string, err error, now time.Time) {
	c.m.failed.WithLabelValues(d.Kind, code).Inc()
	c.history(ctx, d, AttemptFailed, err, now)
	c.logger.Error("alerting: Slack refused a delivery, not retried", "id", d.ID, "kind", d.Kind, "channel", d.Channel, "err", err)
	if err := c.outbox.Fail(ctx, d.ID, err.Error(), now); err != nil {
		c.logger.Error("alerting: outbox", "err", err)
	}
}

// backoff is 1 s doubling with each attempt made, up to max.
func backoff(attempts int, max time.Duration) time.Duration {
	d := time.Second
	for i := 0; i < attempts && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	return d
}

// plan decides and renders groups at now. Their owners are looked up
// here, before Record's transaction: the catalog reads the operational
// store too, and on SQLite (one connection) a lookup inside the
// transaction would wait for it forever.
func (c *Component) plan(now time.Time, groups []Group) Plan {
	owners := make(map[string]Owner, len(groups))
	for _, g := range groups {
		owners[g.Key] = c.owner(g)
	}
	return func(g Group, fires FireHistory) (Decision, func() Message) {
		owner := owners[g.Key]
		d := c.rules.Decide(g, owner, fires, now)
		return d, func() Message {
			return Message{Blocks: Render(g, owner, d, c.cfg.Render), Text: Text(g, owner, d), Reply: ResolvedReply(g)}
		}
	}
}

func (c *Component) owner(g Group) Owner {
	if c.deps.Owners == nil || g.Namespace == "" {
		return Owner{}
	}
	cluster := g.Cluster
	if cluster == "" {
		cluster = c.cluster(g)
	}
	o, _ := c.deps.Owners(cluster, g.Namespace)
	return o
}

// cluster is the first cluster label of a group's alerts.
func (c *Component) cluster(g Group) string {
	if c.cfg.ClusterLabel == "" {
		return ""
	}
	for _, a := range g.Alerts {
		if v := a.Labels[c.cfg.ClusterLabel]; v != "" {
			return v
		}
	}
	return ""
}

// history records a delivery attempt's outcome in ClickHouse, when a
// History is set; the lag runs from the webhook's acceptance to the call.
func (c *Component) history(ctx context.Context, d Delivery, status string, err error, at time.Time) {
	if c.deps.History == nil {
		return
	}
	r := DeliveryRecord{At: c.deps.Now(), DeliveryID: strconv.FormatInt(d.ID, 10), GroupKey: d.GroupKey, Namespace: d.Namespace,
		AlertName: d.AlertName, Kind: d.Kind, Channel: d.Channel, Status: status}
	if err != nil {
		r.Error = err.Error()
	}
	if !d.CreatedAt.IsZero() && at.After(d.CreatedAt) {
		r.Lag = at.Sub(d.CreatedAt)
	}
	if herr := c.deps.History.RecordDelivery(ctx, r); herr != nil {
		c.logger.Warn("alerting: history of a delivery", "id", d.ID, "err", herr)
	}
}
