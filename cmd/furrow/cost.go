package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/furrowdev/furrow/query/cost"
	"github.com/furrowdev/furrow/query/traffic"
)

// newCostCommand is `furrow cost`: allocation runs and anomaly details.
func newCostCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "cost", Short: "Allocate the bill to owners and look into unintended increases"}
	var periods []string
	var allocAt string
	alloc := &cobra.Command{
		Use:   "allocate",
		Short: "Split the bill's periods to owners (all periods, or --period ACCOUNT/YYYY-MM-DD), then detect anomalies",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := signalContext()
			defer cancel()
			s, err := a.openStore(ctx, "furrow cost allocate", true)
			if err != nil {
				return err
			}
			defer s.Close()
			deps := cost.Dependencies{Store: s, Logger: a.logger}
			if allocAt != "" {
				at, err := traffic.ParseTime("at", allocAt, false)
				if err != nil {
					return err
				}
				deps.Now = func() time.Time { return at }
			}
			c, err := cost.New(a.cfg.Cost, deps)
			if err != nil {
				return err
			}
			var ps []cost.Period
			for _, p := range periods {
				acct, day, ok := strings.Cut(p, "/")
				start, err := time.Parse("2006-01-02", day)
				if !ok || acct == "" || err != nil {
					return fmt.Errorf("--period %q: want ACCOUNT/YYYY-MM-DD (the billing period's first day)", p)
				}
				ps = append(ps, cost.Period{Account: acct, Start: start})
			}
			rep, err := c.Allocate(ctx, ps)
			if err != nil {
				return err
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			return enc.Encode(rep)
		},
	}
	alloc.Flags().StringSliceVar(&periods, "period", nil, "billing periods to allocate, as ACCOUNT/YYYY-MM-DD (default: every period of the bill)")
	alloc.Flags().StringVar(&allocAt, "at", "", "judge anomalies as of this time (default now): the days before it are judged")

	var day, team, project, service, currency, format string
	var limit int
	drivers := &cobra.Command{
		Use:   "drivers",
		Short: "The line items behind an anomaly: resources and usage types whose cost rose the most that day",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := signalContext()
			defer cancel()
			d, err := traffic.ParseTime("day", day, false)
			if err != nil || d.IsZero() {
				return fmt.Errorf("--day: want YYYY-MM-DD")
			}
			s, err := a.openStore(ctx, "furrow cost drivers", false)
			if err != nil {
				return err
			}
			defer s.Close()
			t, err := cost.NewReports(s, a.cfg.Cost).Drivers(ctx, d, team, project, service, currency, limit)
			if err != nil {
				return err
			}
			return cost.Render(cmd.OutOrStdout(), format, t)
		},
	}
	fl := drivers.Flags()
	fl.StringVar(&day, "day", "", "the finding's day (YYYY-MM-DD)")
	fl.StringVar(&team, "team", "", "the finding's team code, or (unowned), (idle), (shared)")
	fl.StringVar(&project, "project", "", "the finding's project")
	fl.StringVar(&service, "service", "", "the finding's service, e.g. Amazon Elastic Compute Cloud")
	fl.StringVar(&currency, "currency", "USD", "the finding's currency")
	fl.IntVar(&limit, "limit", 10, "rows")
	fl.StringVarP(&format, "format", "f", "table", "table, csv or json")
	cmd.AddCommand(alloc, drivers)
	return cmd
}

// newReportCostCommand is `furrow report cost`.
func newReportCostCommand(a *app) *cobra.Command {
	var (
		from, to, at, granularity, metric, shared, format string
		team, project, namespace, service, currency       string
		by, sections                                      []string
		limit                                             int
	)
	cmd := &cobra.Command{
		Use:   "cost",
		Short: "Cost by owner (team, project, namespace, workload, service, account, region, usage type), the network reconciliation, month to date and forecast, anomalies",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := signalContext()
			defer cancel()
			q := cost.Query{By: by, Granularity: granularity, Metric: metric, Shared: shared, Team: team, Project: project,
				Namespace: namespace, Service: service, Currency: currency, Limit: limit}
			var err error
			if q.From, err = traffic.ParseTime("from", from, false); err != nil {
				return err
			}
			if q.To, err = traffic.ParseTime("to", to, true); err != nil {
				return err
			}
			s, err := a.openStore(ctx, "furrow report", false)
			if err != nil {
				return err
			}
			defer s.Close()
			r := cost.NewReports(s, a.cfg.Cost)
			var tables []cost.Table
			for _, sec := range sections {
				var t cost.Table
				switch sec {
				case "breakdown":
					t, err = r.Breakdown(ctx, q)
				case "network":
					t, err = r.Network(ctx, q.From, q.To)
				case "summary":
					when := time.Now()
					if at != "" {
						if when, err = traffic.ParseTime("at", at, false); err != nil {
							return err
						}
					}
					t, err = r.Summary(ctx, when)
				case "anomalies":
					t, err = r.Anomalies(ctx, q.From, q.To)
				default:
					return fmt.Errorf("--show %q: want breakdown, network, summary or anomalies", sec)
				}
				if err != nil {
					return err
				}
				tables = append(tables, t)
			}
			return cost.Render(cmd.OutOrStdout(), format, tables...)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&from, "from", "", "start of the window (RFC3339 or YYYY-MM-DD; default: all data)")
	fl.StringVar(&to, "to", "", "end of the window, exclusive (a date includes that day)")
	fl.StringSliceVar(&by, "by", []string{"team"}, "dimensions: "+strings.Join(cost.Dimensions(), ", "))
	fl.StringVar(&at, "at", "", "month to date and forecast as of this time (default now)")
	fl.StringVar(&granularity, "granularity", "", "hour, day, month, or empty for the whole window")
	fl.StringVar(&metric, "metric", "billed", "billed (unblended) or effective (amortized: Savings Plans and reservations spread)")
	fl.StringVar(&shared, "shared", "spread", "the shared namespaces' cost: spread over the owners, or apart")
	fl.StringVar(&team, "team", "", "only this team (its code)")
	fl.StringVar(&project, "project", "", "only this project")
	fl.StringVar(&namespace, "namespace", "", "only this namespace")
	fl.StringVar(&service, "service", "", "only this service")
	fl.StringVar(&currency, "currency", "", "only this currency (sums never mix currencies: each row has one)")
	fl.IntVar(&limit, "limit", 0, "rows per time and currency, largest first (0: all)")
	fl.StringSliceVar(&sections, "show", []string{"breakdown", "network", "summary", "anomalies"}, "sections: breakdown, network, summary, anomalies")
	fl.StringVarP(&format, "format", "f", "table", "table, csv or json")
	return cmd
}
