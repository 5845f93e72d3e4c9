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
		Use:   "billing FILE...",
		Short: "Load a cloud bill (AWS CUR 1.0, its Athena variant, CUR 2.0, FOCUS; CSV, CSV.gz or Parquet) as one delivery",
		Long: `Loads the files as one delivery into billing_line_items. The delivery
replaces the (billing account, billing period) pairs found in its rows, at
once: a query during the swap sees the old delivery or the new one. Other
periods and accounts are kept; the same files again change nothing. Rows
whose amount or date does not parse are rejected with their line; their
neighbours load. See docs/billing.md.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := signalContext()
			defer cancel()
			var rep billing.Report
			err := a.throughServerOrStore(ctx, cmd, "furrow ingest billing", "", true, func(string) error {
				return fmt.Errorf("furrow serve holds the data directory: stop it to load a bill (the engine reads the files itself)")
			}, func(s store.Store) (err error) {
				rep, err = billing.Ingest(ctx, s, args, version, time.Now())
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
			w := cmd.OutOrStdout()
			if rep.Skipped {
				fmt.Fprintf(w, "billing: delivery %s already loaded; nothing to do\n", rep.Delivery)
				return nil
			}
			for _, f := range rep.Files {
				fmt.Fprintf(w, "billing: %s (%s): %d rows, %d rejected, %d columns not mapped\n", f.Path, f.Format, f.Rows, f.Rejected, len(f.Unmapped))
				for _, e := range f.Errors {
					fmt.Fprintln(w, "  rejected "+e)
				}
			}
			fmt.Fprintf(w, "billing: delivery %s now holds %s\n", rep.Delivery, strings.Join(rep.Periods, ", "))
			if len(rep.Kept) > 0 {
				fmt.Fprintf(w, "billing: a newer delivery holds %s (kept)\n", strings.Join(rep.Kept, ", "))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "output: table or json")
	return cmd
}
