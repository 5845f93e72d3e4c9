package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/furrowdev/furrow/deployer"
	"github.com/furrowdev/furrow/deployer/spec"
)

// newDeployCmd is `furrow deploy`: the project spec's commands (schema,
// render, validate), which need no server, cluster or AWS access and so
// suit CI. The commands that deploy and operate (run, rollback, restart,
// …) live in their own file and join the group here, in the AddCommand
// list below.
func newDeployCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "deploy", Short: "Deploy services from their project spec; render, validate and publish the spec's schema"}
	cmd.AddCommand(newDeploySchemaCmd(), newDeployRenderCmd(a), newDeployValidateCmd(a),
		newDeployEventsCommand(a, "events"), newDeployRunCmd(a), newDeployOpCmd(a, deployer.ActionRollback), newDeployOpCmd(a, deployer.ActionRestart), newDeployOpCmd(a, deployer.ActionScale), newDeployOpCmd(a, deployer.ActionTrigger), newDeployHistoryCmd(a), newDeployStatusCmd(a), newDeployDiffCmd(a))
	return cmd
}

func newDeploySchemaCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema (draft 2020-12) of the project spec, for editors",
		Long: "Print the JSON Schema of the project spec. Editors with a YAML language server use it for completion and checks,\n" +
			"e.g. with the first line `# yaml-language-server: $schema=./deploy-spec.schema.json` in the spec.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := spec.Schema()
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(s)
			return err
		},
	}
}

func newDeployRenderCmd(a *app) *cobra.Command {
	var env, region, cluster, outDir, team, projectID string
	cmd := &cobra.Command{
		Use:   "render SPEC --env ENV",
		Short: "Render a spec's Kubernetes manifests for the clusters of an environment, as multi-document YAML",
		Long: "Render the Kubernetes objects a deploy would apply, for every cluster of --env (or only those of --region/--cluster).\n" +
			"Secrets are not read from AWS Secrets Manager: the Secret object is left out and the pods refer to it by name.\n" +
			"Without -o the manifests go to standard output, each target's preceded by a comment naming it; with -o DIR,\n" +
			"one file per target, DIR/ENV-REGION-CLUSTER.yaml.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if env == "" {
				return errors.New("--env is required: the environment to render")
			}
			p, err := spec.Load(args[0])
			if err != nil {
				return err
			}
			targets, err := p.Targets(env)
			if err != nil {
				return err
			}
			var picked []spec.Target
			for _, t := range targets {
				if (region == "" || t.Region == region) && (cluster == "" || t.Cluster == cluster) {
					picked = append(picked, t)
				}
			}
			if len(picked) == 0 {
				return fmt.Errorf("%s: environment %s has no cluster matching --region %q --cluster %q", args[0], env, region, cluster)
			}
			rules := spec.DefaultRules()
			in := spec.RenderInput{Team: team, ProjectID: projectID, UnresolvedSecrets: true, Rules: &rules}
			if outDir != "" {
				if err := os.MkdirAll(outDir, 0o755); err != nil {
					return err
				}
			}
			for i, t := range picked {
				objs, err := spec.Render(p, t, in)
				if err != nil {
					return err
				}
				y, err := spec.ToYAML(objs)
				if err != nil {
					return err
				}
				if outDir != "" {
					name := filepath.Join(outDir, t.Environment+"-"+t.Region+"-"+t.Cluster+".yaml")
					if err := os.WriteFile(name, y, 0o644); err != nil {
						return err
					}
					fmt.Fprintf(cmd.OutOrStdout(), "%s: %d objects\n", name, len(objs))
					continue
				}
				w := cmd.OutOrStdout()
				if i > 0 {
					fmt.Fprintln(w, "---")
				}
				fmt.Fprintf(w, "# target: %s\n", t)
				if _, err := w.Write(y); err != nil {
					return err
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&env, "env", "", "environment to render (required)")
	f.StringVar(&region, "region", "", "only the clusters of this region")
	f.StringVar(&cluster, "cluster", "", "only this cluster")
	f.StringVarP(&outDir, "output-dir", "o", "", "write one file per target into this directory instead of standard output")
	f.StringVar(&team, "team", "unassigned", "owner team code for the furrow.dev/team label (a deploy takes it from the catalog)")
	f.StringVar(&projectID, "project-id", "", "catalog project id for the furrow.dev/project label (default: the spec's project)")
	return cmd
}

func newDeployValidateCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "validate SPEC...",
		Short: "Check specs against the schema and the company rules; print each problem as file:line:column: field: message",
		Long: "Check each spec: strict YAML (unknown keys are errors), then the company rules (docs/deployer.md).\n" +
			"Every problem of every spec is printed to standard error; a bad spec does not stop the others.\n" +
			"Exits 1 when any spec has a problem.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rules := spec.DefaultRules()
			bad, problems := 0, 0
			for _, file := range args {
				p, err := spec.Load(file)
				if err == nil {
					err = p.Validate(rules)
				}
				if err == nil {
					fmt.Fprintf(cmd.OutOrStdout(), "%s: ok\n", file)
					continue
				}
				bad++
				errs := spec.Errors(err)
				if len(errs) == 0 {
					fmt.Fprintln(cmd.ErrOrStderr(), err)
					problems++
					continue
				}
				for _, e := range errs {
					fmt.Fprintln(cmd.ErrOrStderr(), e)
				}
				problems += len(errs)
			}
			if bad > 0 {
				return fmt.Errorf("%d of %d specs have problems (%d in all)", bad, len(args), problems)
			}
			return nil
		},
	}
}
