package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/furrowdev/furrow/api"
	"github.com/furrowdev/furrow/ingest/flowlogs"
	"github.com/furrowdev/furrow/ingest/ledger"
	"github.com/furrowdev/furrow/store"
)

func newIngestStatusCommand(a *app) *cobra.Command {
	var (
		state, serverURL, format string
		limit                    int
	)
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the flow-log objects ingested and those that failed permanently, with the reason",
		Long: `Lists the totals and the most recent flow-log objects, newest first: done
(recorded in ingested_objects) or failed (failed permanently and not ingested
since, with the reason and the furrow version it failed with). A failed object
marked "skipped" is left alone by this version's poller and runs until the
object changes; furrow ingest flowlogs --retry-failed takes it again.

When furrow serve holds the data directory, the status comes from it
(GET /api/v1/ingest/status).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if state != "" && state != "done" && state != "failed" {
				return fmt.Errorf("--state %q: want done or failed", state)
			}
			if format != "table" && format != "json" {
				return fmt.Errorf("--format %q: want table or json", format)
			}
			ctx, cancel := signalContext()
			defer cancel()
			var rep ledger.StatusReport
			remote := func(addr string) error {
				q := url.Values{"limit": {strconv.Itoa(limit)}}
				if state != "" {
					q.Set("state", state)
				}
				c, err := a.newAPIClient(addr, api.ScopeRead)
				if err != nil {
					return err
				}
				resp, err := c.do(ctx, http.MethodGet, "/api/v1/ingest/status?"+q.Encode(), "", nil)
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
					return fmt.Errorf("furrow server: ingest status: %w", err)
				}
				return nil
			}
			err := a.throughServerOrStore(ctx, cmd, "furrow ingest status", serverURL, true, remote,
				func(s store.Store) (err error) {
					rep, err = ledger.New(s, flowlogs.LedgerKind, version).Status(ctx, state, limit)
					return err
				})
			if err != nil {
				return err
			}
			if format == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			return printIngestStatus(cmd, rep)
		},
	}
	f := cmd.Flags()
	f.StringVar(&state, "state", "", "only objects in this state: done or failed")
	f.IntVar(&limit, "limit", flowlogs.DefaultStatusLimit, "how many recent objects to list")
	f.StringVar(&serverURL, "server", "", "ask this furrow server (http://host:port)")
	f.StringVar(&format, "format", "table", "output format: table or json")
	return cmd
}

// printIngestStatus writes the report as a table, newest object first.
func printIngestStatus(cmd *cobra.Command, rep ledger.StatusReport) error {
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "flow logs: %d objects done, %d failed (furrow %s)\n", rep.Done, rep.Failed, rep.Version)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "AT\tSTATE\tREAD\tSTORED\tREJECTED\tOBJECT\tREASON")
	for _, o := range rep.Objects {
		st := o.State
		if o.State == "failed" {
			if o.Skipped {
				st = "failed, skipped"
			} else {
				st = "failed (" + o.Version + "), will retry"
			}
		}
		reason := strings.ReplaceAll(o.Reason, "\n", " ")
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%s\n", o.At, st, o.Read, o.Stored, o.Rejected, o.URL, reason)
	}
	return tw.Flush()
}
