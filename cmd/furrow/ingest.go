package main

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/furrowdev/furrow/ingest/pods"
	"github.com/furrowdev/furrow/query/traffic"
	"github.com/furrowdev/furrow/store"
)

// ingestSubcommands are the commands under `furrow ingest`, listed here
// rather than registered from each file's init.
var ingestSubcommands = []func(*app) *cobra.Command{
	newIngestFlowLogsCommand, newIngestPodsCommand, newIngestBillingCommand, newIngestStatusCommand, newIngestJobsCommand, newIngestCancelCommand,
}

func newIngestCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ingest",
		Short: "Load data into furrow (re-running an ingest never double counts)",
		Long: `Loads data into furrow. While "furrow serve" holds the data directory, the
ingest is handed to it over its API.

` + tokenHelp,
	}
	cmd.PersistentFlags().StringVar(&a.tokenFile, "token-file", "", "file whose first line is the bearer token for a running server (default: env FURROW_TOKEN, then the configuration's tokens)")
	for _, sub := range ingestSubcommands {
		cmd.AddCommand(sub(a))
	}
	return cmd
}

func newIngestPodsCommand(a *app) *cobra.Command {
	var (
		cluster, at string
		detach      bool
	)
	cmd := &cobra.Command{
		Use:   "pods SRC...",
		Short: "Load `kubectl get pods -A -o json` / `kubectl get nodes -o json` snapshots (files or directories) as pod IP history",
		Long: `Reads PodList, NodeList, List and single-object dumps (JSON or YAML). A
timestamp in a file name (pods-20261101T0010Z.json) is the snapshot's time,
else --at, else the file's modification time. A pod missing from a later
snapshot is closed at that snapshot's time; re-running the same files changes
nothing.

While "furrow serve" holds the data directory, the ingest is a job of the
server (the paths must be under its ingest.roots), followed to its end;
Ctrl-C cancels it, --detach prints its id and returns.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := signalContext()
			defer cancel()
			var when time.Time
			if at != "" {
				t, err := traffic.ParseTime("at", at, false)
				if err != nil {
					return err
				}
				when = t
			}
			var res pods.Result
			detached := false
			err := a.throughServerOrStore(ctx, cmd, "furrow ingest pods", "", true, func(base string) error {
				jb, err := a.handOver(ctx, cmd.ErrOrStderr(), base, "/api/v1/ingest/pods", pods.SnapshotRequest{Cluster: cluster, Paths: absSources(args), At: when}, detach)
				if err != nil {
					return err
				}
				if detach {
					printDetached(cmd, jb)
					detached = true
					return nil
				}
				return jobOutcome(jb, &res)
			}, func(s store.Store) (err error) {
				res, err = pods.IngestSnapshots(ctx, s, cluster, args, when)
				return err
			})
			if err != nil || detached {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "pods: %d files, %d snapshots (%s … %s), %d pods, %d nodes, %d pod IP intervals, %d node intervals written\n",
				res.Files, res.Snapshots, res.From.Format(time.RFC3339), res.To.Format(time.RFC3339), res.Pods, res.Nodes, res.PodIntervals, res.NodeIntervals)
			if len(res.Skipped) > 0 {
				fmt.Fprintf(w, "  skipped: %s\n", formatCounts(res.Skipped))
			}
			if len(res.Ignored) > 0 {
				fmt.Fprintf(w, "  ignored kinds: %s\n", formatCounts(res.Ignored))
			}
			for _, fe := range res.FileErrors {
				fmt.Fprintf(cmd.ErrOrStderr(), "  error: %v\n", fe)
			}
			if len(res.FileErrors) > 0 {
				return &exitError{code: 1, err: fmt.Errorf("%d of %d files could not be read", len(res.FileErrors), res.Files)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&cluster, "cluster", "default", "cluster name the snapshots belong to")
	cmd.Flags().BoolVar(&detach, "detach", false, "when handing over to a server: print the job id and return without following it")
	cmd.Flags().StringVar(&at, "at", "", "snapshot time for files without a timestamp in their name (RFC3339 or YYYY-MM-DD; default: file mtime)")
	return cmd
}

func formatCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, " ")
}
