package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/furrowdev/furrow/api"
)

// jobServer is the server whose jobs a command shows: --server, else the
// holder of the data directory. Jobs live in a server's memory only.
func (a *app) jobServer(serverURL string) (string, error) {
	if serverURL != "" {
		return serverURL, nil
	}
	if addr := a.heldAddress(); addr != "" {
		return addr, nil
	}
	return "", errors.New("no furrow serve holds the data directory, and ingest jobs exist only in a running server: pass --server http://host:port or --data of the server")
}

func newIngestJobsCommand(a *app) *cobra.Command {
	var (
		serverURL, format string
		follow            bool
	)
	cmd := &cobra.Command{
		Use:   "jobs [ID]",
		Short: "List the ingest jobs of a running server, or show one (--follow: until it ends)",
		Long: `Lists the hand-over jobs of furrow serve (GET /api/v1/ingest/jobs): id,
kind, owner (the token's subject), state, progress. With an ID, shows that
job; with --follow, prints its progress until it ends (Ctrl-C cancels it)
and exits 1 unless it is done. Finished jobs are kept up to ingest.keep_jobs,
in memory.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "table" && format != "json" {
				return fmt.Errorf("--format %q: want table or json", format)
			}
			ctx, cancel := signalContext()
			defer cancel()
			addr, err := a.jobServer(serverURL)
			if err != nil {
				return err
			}
			// Read, or ingest to follow one's own job: the first token
			// with read is tried, the server accepts either.
			c, err := a.newAPIClient(addr, api.ScopeRead)
			if err != nil {
				return err
			}
			if len(args) == 0 {
				resp, err := c.do(ctx, http.MethodGet, api.JobsPath, "", nil)
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				var list struct {
					Jobs []api.Job `json:"jobs"`
				}
				if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
					return fmt.Errorf("furrow server: ingest jobs: %w", err)
				}
				if format == "json" {
					return writeJSON(cmd, list)
				}
				return printJobs(cmd, list.Jobs)
			}
			var jb api.Job
			if follow {
				jb, err = c.followJob(ctx, cmd.ErrOrStderr(), args[0])
			} else {
				jb, err = c.getJob(ctx, args[0])
			}
			if err != nil {
				return err
			}
			if err := writeJSON(cmd, jb); err != nil {
				return err
			}
			if follow && jb.State != api.JobDone {
				return &exitError{code: 1, err: fmt.Errorf("job %s %s: %s", jb.ID, jb.State, jb.Error)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&serverURL, "server", "", "the furrow server (default: the one holding --data)")
	cmd.Flags().StringVar(&format, "format", "table", "list format: table or json (one job is always JSON)")
	cmd.Flags().BoolVar(&follow, "follow", false, "with ID: print the job's progress until it ends")
	return cmd
}

func newIngestCancelCommand(a *app) *cobra.Command {
	var serverURL string
	cmd := &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel an ingest job of a running server (yours, or any with an admin token)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := signalContext()
			defer cancel()
			addr, err := a.jobServer(serverURL)
			if err != nil {
				return err
			}
			c, err := a.newAPIClient(addr, api.ScopeIngest)
			if err != nil {
				return err
			}
			resp, err := c.do(ctx, http.MethodDelete, api.JobsPath+"/"+args[0], "", nil)
			if err != nil {
				return err
			}
			resp.Body.Close()
			jb, err := c.followJob(ctx, cmd.ErrOrStderr(), args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "job %s %s\n", jb.ID, jb.State)
			return nil
		},
	}
	cmd.Flags().StringVar(&serverURL, "server", "", "the furrow server (default: the one holding --data)")
	return cmd
}

// printDetached tells where a job handed over with --detach can be found.
func printDetached(cmd *cobra.Command, jb api.Job) {
	fmt.Fprintln(cmd.OutOrStdout(), jb.ID)
	fmt.Fprintf(cmd.ErrOrStderr(), "furrow: job %s %s; follow it with: furrow ingest jobs %s --follow (cancel: furrow ingest cancel %s)\n", jb.ID, jb.State, jb.ID, jb.ID)
}

func printJobs(cmd *cobra.Command, jobs []api.Job) error {
	tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tOWNER\tSTATE\tOBJECTS\tSTORED\tREJECTED\tCREATED\tERROR")
	for _, j := range jobs {
		p := j.Progress
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%d\t%d\t%d\t%s\t%s\n", j.ID, j.Kind, j.Subject, j.State,
			p.ObjectsDone, p.ObjectsTotal, p.RecordsStored, p.RecordsRejected, j.Created.Format(time.RFC3339), j.Error)
	}
	return tw.Flush()
}

func writeJSON(cmd *cobra.Command, v any) error {
	enc := json.NewEncoder(cmd.OutOrStdout())
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
