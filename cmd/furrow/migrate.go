package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/furrowdev/furrow/migrations"
	"github.com/furrowdev/furrow/state"
)

func newMigrateCommand(a *app) *cobra.Command {
	var status bool
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending schema migrations and the retention TTLs (furrow serve also does at start)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := signalContext()
			defer cancel()
			s, err := a.openStore(ctx, "furrow migrate", false)
			if err != nil {
				return err
			}
			defer s.Close()
			m := migrations.New(s, a.migrationOptions(s))
			w := cmd.OutOrStdout()
			if !status {
				applied, err := m.UpTo(ctx, migrations.Latest())
				if err != nil {
					return err
				}
				for _, v := range applied {
					fmt.Fprintf(w, "applied migration %d\n", v)
				}
				changes, err := m.Converge(ctx)
				if err != nil {
					return err
				}
				for _, c := range changes {
					fmt.Fprintf(w, "%s %s: %s\n", c.Table, c.What, c.Statement)
				}
			}
			st, err := m.Status(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "schema version %d (this furrow knows up to %d)\n", st.Current, st.Latest)
			// The operational store migrates when it opens.
			ops, err := state.Open(ctx, a.cfg.State, a.cfg.Data)
			if err != nil {
				return err
			}
			defer ops.Close()
			v, err := ops.Version(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "operational state (%s) at version %d\n", ops.Dialect(), v)
			return nil
		},
	}
	cmd.Flags().BoolVar(&status, "status", false, "only print the schema version")
	return cmd
}
