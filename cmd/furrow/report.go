package main

import (
	"github.com/spf13/cobra"

	"github.com/furrowdev/furrow/query/traffic"
)

func newReportCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "report", Short: "Print analyses of the stored data"}
	var (
		from, to, at, window         string
		cluster, namespace, workload string
		classes, by                  []string
		limit                        int
		format                       string
	)
	cz := &cobra.Command{
		Use:   "cross-zone",
		Short: "Top talkers by namespace, workload and zone pair, cost per day, and before/after a date for a namespace or workload",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := signalContext()
			defer cancel()
			f := traffic.Filter{Cluster: cluster, Namespace: namespace, Workload: workload, Classes: classes, Limit: limit}
			for _, b := range by {
				f.Rankings = append(f.Rankings, traffic.By(b))
			}
			var err error
			if f.From, err = traffic.ParseTime("from", from, false); err != nil {
				return err
			}
			if f.To, err = traffic.ParseTime("to", to, true); err != nil {
				return err
			}
			if at != "" {
				if f.At, err = traffic.ParseTime("at", at, false); err != nil {
					return err
				}
			}
			if f.Window, err = traffic.ParseWindow(window); err != nil {
				return err
			}
			s, err := a.openStore(ctx, "furrow report", false)
			if err != nil {
				return err
			}
			defer s.Close()
			return traffic.New(s).CrossZoneReport(ctx, cmd.OutOrStdout(), f, format)
		},
	}
	fl := cz.Flags()
	fl.StringVar(&from, "from", "", "start of the window (RFC3339 or YYYY-MM-DD; default: all data)")
	fl.StringVar(&to, "to", "", "end of the window, exclusive (a date includes that day)")
	fl.StringVar(&cluster, "cluster", "", "only flows with this cluster at either end")
	fl.StringVar(&namespace, "namespace", "", "only flows with this namespace at either end")
	fl.StringVar(&workload, "workload", "", "only flows with this workload at either end")
	fl.StringSliceVar(&classes, "class", nil, "traffic classes (default cross-zone; all for every class)")
	fl.IntVar(&limit, "limit", 10, "rows per ranking")
	fl.StringSliceVar(&by, "by", []string{"namespace", "workload", "zone"}, "rankings: namespace, workload, zone, team (the owning teams, from the catalog)")
	fl.StringVar(&at, "at", "", "compare before and after this time (needs --namespace or --workload), e.g. when locality load balancing was switched on")
	fl.StringVar(&window, "window", "", "before/after window per side (e.g. 7d, 36h; default 7d, clipped to the data)")
	fl.StringVarP(&format, "format", "f", "table", "table, csv or json")
	cmd.AddCommand(cz, newReportCostCommand(a))
	return cmd
}
