package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/furrowdev/furrow/ingest/flowlogs"
	"github.com/furrowdev/furrow/ingest/pods"
	"github.com/furrowdev/furrow/ingest/source"
	"github.com/furrowdev/furrow/query/traffic"
	"github.com/furrowdev/furrow/store"
)

func newIngestFlowLogsCommand(a *app) *cobra.Command {
	var (
		fields, since, until, serverURL, format string
		strict, retryFailed, detach             bool
	)
	cmd := &cobra.Command{
		Use:   "flowlogs SRC...",
		Short: "Load VPC flow logs from files, directories or s3://bucket/prefix, attributed to pods and costed; each record once",
		Long: `Reads plain text, gzip and Parquet flow logs, of any version (v2 default … v5
custom formats and later), and CloudWatch Logs / Firehose JSON lines. The
field list comes from a header line, else --fields, else the AWS default for
the line's field count. A malformed line is counted and reported with
file:line and reason, as is a line with a value no flow log can have (see
docs/ingest-flowlogs.md for the bounds); its neighbours are stored. An object whose
content was already ingested (sha256 + size of a file, ETag + size of an S3
object: a copy or a link is the same object) is skipped, and a crash
mid-object followed by a re-run stores each record once. A corrupt or
truncated gzip or Parquet object is an error: nothing of it is stored, and
it is read again once it changes. Links are followed; an unreadable entry
of a directory is reported and the rest is loaded.

--since/--until select objects by the AWS and Hive key layouts
(AWSLogs/{acct}/vpcflowlogs/{region}/YYYY/MM/DD/…, …/year=/month=/day=/hour=)
and records by their start time.

An object whose failure cannot heal by retrying (the table refuses its rows,
its gzip data is corrupt) is recorded as failed with its reason (see furrow
ingest status) and skipped by later runs and by the poller of furrow serve
until the object or furrow changes; --retry-failed ingests it again.

While "furrow serve" holds the data directory (or with --server), the
ingest is a job of the server: the sources must be under its ingest.roots
or ingest.s3_prefixes, and this command follows the job, printing its
progress, until it ends; Ctrl-C cancels the job (objects finished stay
ingested, the one in progress is not recorded). --detach prints the job id
and returns at once (see furrow ingest jobs, furrow ingest cancel).

Exit status: 1 when an object could not be read or stored, or was skipped as
failed; with --strict, also when a line was rejected or a file is not a flow
log; 1 when the job was cancelled.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := signalContext()
			defer cancel()
			var w source.Window
			var err error
			if w.Since, err = traffic.ParseTime("since", since, false); err != nil {
				return err
			}
			if w.Until, err = traffic.ParseTime("until", until, true); err != nil {
				return err
			}
			var fieldList []string
			if fields != "" {
				if fieldList, err = flowlogs.ParseFormat(fields); err != nil {
					return fmt.Errorf("--fields: %w", err)
				}
			}
			req := flowlogs.IngestRequest{Sources: absSources(args), Since: w.Since, Until: w.Until, Strict: strict, Fields: fields, RetryFailed: retryFailed}
			remote := func(base string) error { return a.remoteFlowIngest(ctx, cmd, base, req, format, detach) }
			return a.throughServerOrStore(ctx, cmd, "furrow ingest flowlogs", serverURL, true, remote, func(s store.Store) error {
				ing, err := a.newFlowIngester(s, pods.NewIndexCache(s, time.Minute, a.logger), flowlogs.IngestOptions{Strict: strict, Fields: fieldList, RetryFailed: retryFailed})
				if err != nil {
					return err
				}
				sum, err := ing.Run(ctx, args, w)
				if err != nil {
					return err
				}
				return printFlowSummary(cmd, sum, format)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&fields, "fields", "", "field list of files without a header: AWS format string (${version} ${account-id} …) or space-separated names")
	f.StringVar(&since, "since", "", "only records starting at or after this time (RFC3339 or YYYY-MM-DD)")
	f.StringVar(&until, "until", "", "only records starting before this time (a date includes that day)")
	f.BoolVar(&strict, "strict", false, "exit non-zero when a line is rejected or a file is not a flow log")
	f.BoolVar(&retryFailed, "retry-failed", false, "ingest again the objects that failed permanently under this furrow version")
	f.StringVar(&serverURL, "server", "", "hand the ingest to this furrow server (http://host:port)")
	f.StringVar(&format, "format", "table", "summary format: table or json")
	f.BoolVar(&detach, "detach", false, "when handing over to a server: print the job id and return without following it")
	return cmd
}

// newFlowIngester builds the ingester from the configuration.
func (a *app) newFlowIngester(s store.Store, idx *pods.IndexCache, opts flowlogs.IngestOptions) (*flowlogs.Ingester, error) {
	return flowlogs.NewIngester(flowlogs.Dependencies{
		Store:   s,
		Source:  source.New(a.cfg.S3, source.Dependencies{}),
		Index:   idx.Index,
		Traffic: a.cfg.Traffic,
		Logger:  a.logger,
		Version: version,
	}, opts)
}

func printFlowSummary(cmd *cobra.Command, sum flowlogs.Summary, format string) error {
	if format == "json" {
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetIndent("", "  ")
		if err := enc.Encode(sum); err != nil {
			return err
		}
	} else if err := sum.Print(cmd.OutOrStdout()); err != nil {
		return err
	}
	if sum.Failed() {
		return &exitError{code: 1, err: fmt.Errorf("flow-log ingest failed (see the summary above)")}
	}
	return nil
}

// absSources makes file sources absolute, so a server with another working
// directory finds them.
func absSources(srcs []string) []string {
	out := make([]string, len(srcs))
	for i, s := range srcs {
		out[i] = s
		if !strings.Contains(s, "://") {
			if abs, err := filepath.Abs(s); err == nil {
				out[i] = abs
			}
		}
	}
	return out
}

// remoteFlowIngest hands the ingest to the server at base as a job and
// follows it to its end (or, with detach, prints its id).
func (a *app) remoteFlowIngest(ctx context.Context, cmd *cobra.Command, base string, req flowlogs.IngestRequest, format string, detach bool) error {
	jb, err := a.handOver(ctx, cmd.ErrOrStderr(), base, "/api/v1/ingest/flowlogs", req, detach)
	if err != nil {
		return err
	}
	if detach {
		printDetached(cmd, jb)
		return nil
	}
	var sum flowlogs.Summary
	if err := jobOutcome(jb, &sum); err != nil {
		if len(jb.Result) > 0 {
			_ = sum.Print(cmd.OutOrStdout())
		}
		return err
	}
	return printFlowSummary(cmd, sum, format)
}
