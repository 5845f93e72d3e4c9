package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/furrowdev/furrow/migrations"
	"github.com/furrowdev/furrow/store/embedded"
)

func newVersionCommand(_ *app) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print furrow's version, the embedded engine library and the schema version it knows",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			lib, src := embedded.LibraryPath()
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "furrow %s (%s, %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			fmt.Fprintf(w, "embedded engine: %s (from %s)\n", lib, src)
			fmt.Fprintf(w, "schema version: %d\n", migrations.Latest())
			return nil
		},
	}
}
