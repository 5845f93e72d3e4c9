package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/furrowdev/furrow/dashboards"
)

func newDashboardsCommand(_ *app) *cobra.Command {
	cmd := &cobra.Command{Use: "dashboards", Short: "furrow's Grafana dashboards"}
	var o dashboards.ExportOptions
	export := &cobra.Command{
		Use:   "export DIR",
		Short: "Write the dashboards and Grafana provisioning files for them and furrow's datasource",
		Long: `Writes DIR/dashboards/*.json (generated in Go), and a provisioning tree for
Grafana: DIR/provisioning/datasources/furrow.yaml (furrow's datasource plugin,
pointed at --url, its token read from Grafana's environment) and
DIR/provisioning/dashboards/furrow.yaml (a file provider for the dashboards).
Point Grafana's paths.provisioning at DIR/provisioning.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := dashboards.Export(args[0], o); err != nil {
				return err
			}
			abs, _ := filepath.Abs(args[0])
			fmt.Fprintf(cmd.OutOrStdout(), "dashboards: %d dashboards and the provisioning tree in %s\n", len(dashboards.All()), abs)
			return nil
		},
	}
	export.Flags().StringVar(&o.URL, "url", "http://127.0.0.1:8080", "the furrow server as Grafana reaches it")
	export.Flags().StringVar(&o.TokenEnv, "token-env", "GRAFANA_FURROW_TOKEN", "the variable of Grafana's environment that holds a furrow read token")
	export.Flags().StringVar(&o.DashboardsPath, "dashboards-path", "", "where Grafana reads the dashboards (default: DIR/dashboards, absolute)")
	cmd.AddCommand(export)
	return cmd
}
