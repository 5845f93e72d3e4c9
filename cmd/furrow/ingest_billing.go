package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/furrowdev/furrow/ingest/billing"
	"github.com/furrowdev/furrow/store"
)

func newIngestBillingCommand(a *app) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "billing SRC...",
		Short: "Load cloud bills (AWS CUR 1.0, its Athena variant, CUR 2.0, FOCUS; CSV, CSV.gz or Parquet) from files, report folders, manifests or s3://",
		Long: `Loads bills into billing_line_items. SRC is a manifest (CUR 1.0
<report>-Manifest.json, CUR 2.0 metadata/BILLING_PERIOD=…/…-Manifest.json:
the files it lists are one delivery), a directory or s3://bucket/prefix
holding reports (the newest manifest of each report and billing period; a
tree without manifests is one delivery of its .csv, .csv.gz and .parquet
files), or plain files (together one delivery). A delivery replaces the
(billing account, billing period) pairs found in its rows, at once: a
query during the swap sees the old delivery or the new one. Other periods
and accounts are kept; the same delivery again changes nothing. Rows whose
amount or date does not parse are rejected with their line; their
neighbours load. S3 access comes from the s3 section of the configuration.
See docs/billing.md.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := signalContext()
			defer cancel()
			var reps []billing.Report
			var loadErr error
			err := a.throughServerOrStore(ctx, cmd, "furrow ingest billing", "", true, func(string) error {
				return fmt.Errorf("furrow serve holds the data directory: stop it to load a bill (the engine reads the files itself), or let its billing poller load it")
			}, func(s store.Store) error {
				reps, loadErr = billing.IngestSources(ctx, s, args, billing.Options{Version: version, Now: time.Now(), S3: billing.NewS3(a.cfg.S3, a.cfg.Billing.TempDir)})
				return nil
			})
			if err != nil {
				return err
			}
			if format == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(reps); err != nil {
					return err
				}
				return loadErr
			}
			w := cmd.OutOrStdout()
			for _, rep := range reps {
				name := rep.Delivery
				if rep.Source != "" {
					name += " (" + rep.Source + ")"
				}
				if rep.Skipped {
					fmt.Fprintf(w, "billing: delivery %s already loaded; nothing to do\n", name)
					continue
				}
				for _, f := range rep.Files {
					fmt.Fprintf(w, "billing: %s (%s): %d rows, %d rejected, %d columns not mapped\n", f.Path, f.Format, f.Rows, f.Rejected, len(f.Unmapped))
					for _, e := range f.Errors {
						fmt.Fprintln(w, "  rejected "+e)
					}
				}
				fmt.Fprintf(w, "billing: delivery %s now holds %s\n", name, strings.Join(rep.Periods, ", "))
				if len(rep.Kept) > 0 {
					fmt.Fprintf(w, "billing: a newer delivery holds %s (kept)\n", strings.Join(rep.Kept, ", "))
				}
			}
			return loadErr
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "output: table or json")
	return cmd
}
