package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/furrowdev/furrow/alerting"
	"github.com/furrowdev/furrow/catalog"
	"github.com/furrowdev/furrow/demo"
	"github.com/furrowdev/furrow/state"
)

func newAlertsCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "alerts", Short: "Alert delivery: replay saved webhook bodies"}
	var (
		source  string
		deliver bool
	)
	replay := &cobra.Command{
		Use:   "replay [--source alertmanager|grafana] [--deliver] FILE|DIR...",
		Short: "Run saved Alertmanager/Grafana webhook bodies through alert delivery, each at the time it was received",
		Long: `Runs each webhook body through alerting's own pipeline (decode, split,
owners from the catalog, routes and mentions, the outbox of the operational
store, the ClickHouse history) with the clock at the time the body was
received: the time in its name as furrow demo generate writes them
(20261101T021030.412Z_alertmanager_0007.json), else the file's modification
time. Files are taken in that order; a directory stands for its *.json files.
The source is --source, else the one in the name, else guessed from the body's
version ("1": grafana, else alertmanager).

With --deliver, the deliveries due after each body are made to
alerting.slack.api_url as they would have been then (delivery lag measured).

Replaying the same files again records nothing: a body whose alert groups
the operational store holds as of its time or later is skipped (replaying it
would move them back in time). A file that is not a notification is reported and
skipped; the command then fails after the others are replayed. It works on
the stores directly: stop furrow serve first, or post the bodies to its
webhook routes instead.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if source != "" && source != alerting.SourceAlertmanager && source != alerting.SourceGrafana {
				return fmt.Errorf("--source %q: use alertmanager or grafana", source)
			}
			ctx, cancel := signalContext()
			defer cancel()
			return a.replayAlerts(ctx, cmd.OutOrStdout(), args, source, deliver)
		},
	}
	replay.Flags().StringVar(&source, "source", "", "alertmanager or grafana (default: from the file name, else the body's version)")
	replay.Flags().BoolVar(&deliver, "deliver", false, "make the deliveries to Slack after each body, at its time")
	cmd.AddCommand(replay)
	return cmd
}

// replayFile is one body to replay.
type replayFile struct {
	path   string
	at     time.Time
	source string
}

// replayFiles lists the files of args (directories: their *.json), with
// their receive time and source, in receive order.
func replayFiles(args []string, source string) ([]replayFile, error) {
	var paths []string
	for _, arg := range args {
		fi, err := os.Stat(arg)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			paths = append(paths, arg)
			continue
		}
		m, err := filepath.Glob(filepath.Join(arg, "*.json"))
		if err != nil {
			return nil, err
		}
		paths = append(paths, m...)
	}
	var out []replayFile
	for _, p := range paths {
		f := replayFile{path: p}
		if at, src, ok := demo.ParseAlertFileName(p); ok {
			f.at, f.source = at, src
		} else {
			fi, err := os.Stat(p)
			if err != nil {
				return nil, err
			}
			f.at = fi.ModTime().UTC()
		}
		if source != "" {
			f.source = source
		}
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].at.Equal(out[j].at) {
			return out[i].at.Before(out[j].at)
		}
		return out[i].path < out[j].path
	})
	return out, nil
}

// guessSource reads a body's version: Grafana sends "1", Alertmanager "4".
func guessSource(body []byte) string {
	var v struct {
		Version any `json:"version"`
	}
	if json.Unmarshal(body, &v) == nil && fmt.Sprint(v.Version) == "1" {
		return alerting.SourceGrafana
	}
	return alerting.SourceAlertmanager
}

// replayClock is the component's clock during a replay: the body's receive
// time, advanced by the wall time spent since it was set (so that a
// delivery's lag is the real one).
type replayClock struct {
	mu   sync.Mutex
	at   time.Time
	wall time.Time
}

func (c *replayClock) set(at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at, c.wall = at, time.Now()
}

func (c *replayClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() {
		return time.Now()
	}
	return c.at.Add(time.Since(c.wall))
}

func (a *app) replayAlerts(ctx context.Context, w io.Writer, args []string, source string, deliver bool) error {
	files, err := replayFiles(args, source)
	if err != nil {
		return err
	}
	s, err := a.openStore(ctx, "furrow alerts replay", true)
	if err != nil {
		return err
	}
	defer s.Close()
	st, err := state.Open(ctx, a.cfg.State, a.cfg.Data)
	if err != nil {
		return err
	}
	defer st.Close()
	ccfg := a.cfg.Catalog
	ccfg.HR.Interval = 0
	cat, err := catalog.New(ccfg, catalog.Dependencies{State: st, Store: s, Logger: a.logger})
	if err != nil {
		return err
	}
	if err := cat.Start(ctx); err != nil {
		return err
	}
	defer cat.Stop(context.WithoutCancel(ctx)) //nolint:errcheck // nothing runs
	clock := &replayClock{}
	cfg := a.cfg.Alerting
	c, err := alerting.New(cfg, alerting.Dependencies{State: st, Owners: alertOwners(cat), Registry: prometheus.NewRegistry(),
		Logger: a.logger, Now: clock.now, History: alerting.NewHistory(s)})
	if err != nil {
		return err
	}
	var total alerting.Recorded
	var replayed, skipped int
	var bad []string
	for _, f := range files {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		body, err := os.ReadFile(f.path)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s: %v", f.path, err))
			continue
		}
		src := f.source
		if src == "" {
			src = guessSource(body)
		}
		clock.set(f.at)
		res, skip, err := c.Replay(ctx, src, body, f.at)
		switch {
		case errors.Is(err, alerting.ErrMalformed):
			bad = append(bad, fmt.Sprintf("%s: %v", f.path, err))
			continue
		case err != nil:
			return fmt.Errorf("%s: %w", f.path, err)
		case skip:
			skipped++
			continue
		}
		replayed++
		total.Groups += res.Groups
		total.Deliveries += res.Deliveries
		total.Snoozed += res.Snoozed
		total.Unchanged += res.Unchanged
		if deliver {
			c.Deliver(ctx)
		}
	}
	for _, b := range bad {
		fmt.Fprintln(os.Stderr, "alerts replay:", b)
	}
	fmt.Fprintf(w, "alerts replay: %d bodies replayed, %d already received (skipped), %d refused; %d groups, %d deliveries recorded, %d snoozed, %d unchanged\n",
		replayed, skipped, len(bad), total.Groups, total.Deliveries, total.Snoozed, total.Unchanged)
	if deliver {
		counts, err := c.Outbox().Counts(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "alerts replay: outbox %d done, %d pending, %d failed\n", counts[alerting.DeliveryDone], counts[alerting.DeliveryPending], counts[alerting.DeliveryFailed])
	}
	if len(bad) > 0 {
		return fmt.Errorf("%d of %d files are not notifications: %s", len(bad), len(files), strings.Join(bad, "; "))
	}
	return nil
}
