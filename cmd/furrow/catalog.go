package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/furrowdev/furrow/api"
	"github.com/furrowdev/furrow/catalog"
	"github.com/furrowdev/furrow/state"
	"github.com/furrowdev/furrow/store"
)

// withCatalog runs a catalog command through a running furrow serve (or
// --server), or on the stores themselves: the operational state and, for
// the ClickHouse mirror and the unowned namespaces, the ClickHouse store.
func (a *app) withCatalog(ctx context.Context, cmd *cobra.Command, command, serverURL string, scope api.Scope,
	remote func(c *apiClient) error, local func(c *catalog.Catalog) error) error {
	return a.throughServerOrStore(ctx, cmd, command, serverURL, true, func(base string) error {
		c, err := a.newAPIClient(base, scope)
		if err != nil {
			return err
		}
		return remote(c)
	}, func(s store.Store) error {
		st, err := state.Open(ctx, a.cfg.State, a.cfg.Data)
		if err != nil {
			return err
		}
		defer st.Close()
		cfg := a.cfg.Catalog
		cfg.HR.Interval = 0 // a command syncs once, on demand
		c, err := catalog.New(cfg, catalog.Dependencies{State: st, Store: s, Logger: a.logger})
		if err != nil {
			return err
		}
		if err := c.Start(ctx); err != nil {
			return err
		}
		defer c.Stop(context.WithoutCancel(ctx)) //nolint:errcheck // nothing runs
		return local(c)
	})
}

// getJSON decodes a GET of the API into out.
func getJSON(ctx context.Context, c *apiClient, path string, out any) error {
	resp, err := c.do(ctx, http.MethodGet, path, "", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(out)
}

func printJSON(cmd *cobra.Command, v any) error {
	enc := json.NewEncoder(cmd.OutOrStdout())
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newCatalogCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "catalog", Short: "The ownership catalog: teams, people, projects, owners, HR sync"}
	var serverURL string
	cmd.PersistentFlags().StringVar(&serverURL, "server", "", "go through this furrow server (http://host:port)")

	var dry bool
	var file string
	sync := &cobra.Command{
		Use:   "sync",
		Short: "Sync teams and people from HR (catalog.hr.file or url, or --file): a dry run prints the diff",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := signalContext()
			defer cancel()
			var data []byte
			format := ""
			if file != "" {
				b, err := os.ReadFile(file)
				if err != nil {
					return err
				}
				data, format = b, strings.TrimPrefix(strings.ToLower(filepath.Ext(file)), ".")
			} else if a.cfg.Catalog.HR.File != "" {
				b, err := os.ReadFile(a.cfg.Catalog.HR.File)
				if err != nil {
					return err
				}
				data, format = b, strings.TrimPrefix(strings.ToLower(filepath.Ext(a.cfg.Catalog.HR.File)), ".")
			}
			var rep catalog.SyncReport
			err := a.withCatalog(ctx, cmd, "furrow catalog sync", serverURL, api.ScopeAdmin, func(c *apiClient) error {
				if data == nil {
					return fmt.Errorf("give the HR export with --file (the server reads catalog.hr on its schedule)")
				}
				ct := map[string]string{"csv": "text/csv", "yaml": "application/yaml", "yml": "application/yaml"}[format]
				if ct == "" {
					ct = "application/json"
				}
				q := url.Values{}
				if dry {
					q.Set("dry_run", "1")
				}
				resp, err := c.do(ctx, http.MethodPost, "/api/v1/catalog/sync?"+q.Encode(), ct, bytes.NewReader(data))
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				return json.NewDecoder(resp.Body).Decode(&rep)
			}, func(c *catalog.Catalog) (err error) {
				actor := catalog.Actor{Subject: "cli:" + os.Getenv("USER"), Source: "hr-sync"}
				if data != nil {
					rep, err = c.SyncHRData(ctx, actor, dry, format, data)
				} else {
					rep, err = c.SyncHR(ctx, actor, dry)
				}
				return err
			})
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			verb := "changed"
			if rep.DryRun {
				verb = "would change"
			}
			fmt.Fprintf(w, "catalog: %d people in %d teams; %s %d rows\n", rep.People, rep.Teams, verb, len(rep.Changes))
			for _, c := range rep.Changes {
				fmt.Fprintln(w, "  "+c)
			}
			return nil
		},
	}
	sync.Flags().BoolVar(&dry, "dry-run", false, "print what would change, change nothing")
	sync.Flags().StringVar(&file, "file", "", "an HR export (YAML, JSON or CSV) instead of catalog.hr")

	list := func(use, short, path string, local func(ctx context.Context, c *catalog.Catalog) (any, error)) *cobra.Command {
		return &cobra.Command{
			Use: use, Short: short, Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				ctx, cancel := signalContext()
				defer cancel()
				var out any
				err := a.withCatalog(ctx, cmd, "furrow catalog "+use, serverURL, api.ScopeRead, func(c *apiClient) error {
					return getJSON(ctx, c, path, &out)
				}, func(c *catalog.Catalog) (err error) {
					out, err = local(ctx, c)
					return err
				})
				if err != nil {
					return err
				}
				return printJSON(cmd, out)
			},
		}
	}
	apply := &cobra.Command{
		Use:   "apply FILE",
		Short: "Create or update the projects of a YAML file (projects: [{id, name, owner_team, tier, namespaces: [{cluster, namespace}]}])",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := signalContext()
			defer cancel()
			b, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			var doc struct {
				Projects []catalog.Project `yaml:"projects"`
			}
			if err := yaml.Unmarshal(b, &doc); err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			n := 0
			err = a.withCatalog(ctx, cmd, "furrow catalog apply", serverURL, api.ScopeWrite, func(c *apiClient) error {
				for _, p := range doc.Projects {
					body, _ := json.Marshal(p)
					req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/api/v1/catalog/projects/"+url.PathEscape(p.ID), nil)
					if err != nil {
						return err
					}
					if c.token != "" {
						req.Header.Set("Authorization", "Bearer "+c.token)
					}
					resp, err := c.http.Do(req)
					if err != nil {
						return err
					}
					resp.Body.Close()
					put, err := http.NewRequestWithContext(ctx, http.MethodPut, c.base+"/api/v1/catalog/projects/"+url.PathEscape(p.ID), bytes.NewReader(body))
					if err != nil {
						return err
					}
					put.Header.Set("Content-Type", "application/json")
					if c.token != "" {
						put.Header.Set("Authorization", "Bearer "+c.token)
					}
					if resp.StatusCode == http.StatusOK {
						put.Header.Set("If-Match", resp.Header.Get("ETag"))
					}
					pr, err := c.http.Do(put)
					if err != nil {
						return err
					}
					msg, _ := io.ReadAll(pr.Body)
					pr.Body.Close()
					if pr.StatusCode != http.StatusOK {
						return fmt.Errorf("project %s: HTTP %d: %s", p.ID, pr.StatusCode, strings.TrimSpace(string(msg)))
					}
					n++
				}
				return nil
			}, func(c *catalog.Catalog) error {
				actor := catalog.Actor{Subject: "cli:" + os.Getenv("USER"), Source: "file"}
				for _, p := range doc.Projects {
					if _, err := c.PutProject(ctx, actor, p, -1); err != nil {
						return fmt.Errorf("project %s: %w", p.ID, err)
					}
					n++
				}
				return nil
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "catalog: %d projects applied from %s\n", n, args[0])
			return nil
		},
	}
	var bsCluster string
	var bsDry bool
	backstage := &cobra.Command{
		Use:   "import-backstage PATH...",
		Short: "Import Backstage catalog-info.yaml files (a directory tree of repositories, or files): groups, users, components, resources",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := signalContext()
			defer cancel()
			files, err := catalog.ReadBackstageFiles(args)
			if err != nil {
				return err
			}
			var rep catalog.BackstageReport
			err = a.withCatalog(ctx, cmd, "furrow catalog import-backstage", serverURL, api.ScopeAdmin, func(c *apiClient) error {
				body := map[string]any{"files": map[string]string{}, "cluster": bsCluster, "dry_run": bsDry}
				for k, v := range files {
					body["files"].(map[string]string)[k] = string(v)
				}
				b, _ := json.Marshal(body)
				resp, err := c.do(ctx, http.MethodPost, "/api/v1/catalog/backstage", "application/json", bytes.NewReader(b))
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				return json.NewDecoder(resp.Body).Decode(&rep)
			}, func(c *catalog.Catalog) (err error) {
				rep, err = c.ImportBackstage(ctx, catalog.Actor{Subject: "cli:" + os.Getenv("USER"), Source: "backstage"}, files, bsCluster, bsDry)
				return err
			})
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "backstage: %d entities in %d files; %d changes\n", rep.Entities, len(files), len(rep.Changes))
			for _, c := range rep.Changes {
				fmt.Fprintln(w, "  "+c)
			}
			for _, u := range rep.Unknown {
				fmt.Fprintln(w, "  not imported (kind furrow does not read): "+u)
			}
			for _, p := range rep.Problems {
				fmt.Fprintln(w, "  problem: "+p)
			}
			return nil
		},
	}
	backstage.Flags().StringVar(&bsCluster, "cluster", "", "the cluster of the components' backstage.io/kubernetes-namespace annotations")
	backstage.Flags().BoolVar(&bsDry, "dry-run", false, "print what would change, change nothing")
	var trDry bool
	transfer := &cobra.Command{
		Use:   "transfer PROJECT TEAM",
		Short: "Move a project to another team: one catalog change, then its resources re-tagged (catalog.tags.team_tag) through the tagging API",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := signalContext()
			defer cancel()
			var plan catalog.TransferPlan
			var progress []catalog.RetagProgress
			err := a.withCatalog(ctx, cmd, "furrow catalog transfer", "", api.ScopeAdmin, func(*apiClient) error {
				return fmt.Errorf("stop furrow serve first, or run the transfer on a replica without it: the re-tag job runs in this process")
			}, func(c *catalog.Catalog) (err error) {
				plan, progress, err = c.Transfer(ctx, catalog.Actor{Subject: "cli:" + os.Getenv("USER"), Source: "cli"}, args[0], args[1], trDry)
				return err
			})
			w := cmd.OutOrStdout()
			if plan.Project != "" {
				verb := "moved"
				if trDry {
					verb = "would move"
				}
				fmt.Fprintf(w, "project %s: %s from %s to %s; %d resources to re-tag\n", plan.Project, verb, plan.FromTeam, plan.ToTeam, len(plan.Retag))
				for _, arn := range plan.Retag {
					fmt.Fprintln(w, "  "+arn)
				}
			}
			for _, p := range progress {
				fmt.Fprintf(w, "re-tag job %s: %s (%d done, %d failed)\n", p.Job, p.State, p.Done, len(p.Failed))
			}
			return err
		},
	}
	transfer.Flags().BoolVar(&trDry, "dry-run", false, "print the diff, change nothing")
	scanTags := &cobra.Command{
		Use:   "scan-tags",
		Short: "Read cloud resources' owners from their tags (catalog.tags keys) through the tagging API",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := signalContext()
			defer cancel()
			var rep catalog.ScanReport
			err := a.withCatalog(ctx, cmd, "furrow catalog scan-tags", "", api.ScopeAdmin, func(*apiClient) error {
				return fmt.Errorf("stop furrow serve first: the scan runs in this process")
			}, func(c *catalog.Catalog) (err error) {
				rep, err = c.ScanCloudTags(ctx, catalog.Actor{Subject: "cli:" + os.Getenv("USER"), Source: "tag-scan"})
				return err
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "tags: %d resources, %d with an owner, %d changed\n", rep.Resources, rep.Owned, rep.Changes)
			for _, p := range rep.Problems {
				fmt.Fprintln(cmd.OutOrStdout(), "  problem: "+p)
			}
			return nil
		},
	}
	retag := &cobra.Command{
		Use:   "retag",
		Short: "Resume the re-tag jobs an interrupted transfer left running",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := signalContext()
			defer cancel()
			var progress []catalog.RetagProgress
			err := a.withCatalog(ctx, cmd, "furrow catalog retag", "", api.ScopeAdmin, func(*apiClient) error {
				return fmt.Errorf("stop furrow serve first: the job runs in this process")
			}, func(c *catalog.Catalog) (err error) {
				progress, err = c.ResumeRetagJobs(ctx, catalog.Actor{Subject: "cli:" + os.Getenv("USER"), Source: "cli"})
				return err
			})
			for _, p := range progress {
				fmt.Fprintf(cmd.OutOrStdout(), "re-tag job %s: %s (%d done, %d failed)\n", p.Job, p.State, p.Done, len(p.Failed))
			}
			return err
		},
	}
	cmd.AddCommand(sync, apply, backstage, transfer, scanTags, retag,
		list("teams", "List the teams (JSON)", "/api/v1/catalog/teams", func(ctx context.Context, c *catalog.Catalog) (any, error) { return c.Teams(ctx, false) }),
		list("people", "List the people (JSON)", "/api/v1/catalog/people", func(ctx context.Context, c *catalog.Catalog) (any, error) { return c.People(ctx) }),
		list("projects", "List the projects and their namespaces (JSON)", "/api/v1/catalog/projects", func(ctx context.Context, c *catalog.Catalog) (any, error) { return c.Projects(ctx) }),
		list("audit", "The latest changes, newest first (JSON)", "/api/v1/catalog/audit", func(ctx context.Context, c *catalog.Catalog) (any, error) { return c.Audit(ctx, "", "", 100) }),
		list("resources", "Cloud resources and their owners (JSON)", "/api/v1/catalog/resources", func(ctx context.Context, c *catalog.Catalog) (any, error) { return c.Resources(ctx) }),
		&cobra.Command{
			Use: "namespaces", Short: "Who owns each namespace, and the namespaces nobody owns", Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				ctx, cancel := signalContext()
				defer cancel()
				var out struct {
					Owned   []catalog.Owner     `json:"owned"`
					Unowned []catalog.Namespace `json:"unowned"`
				}
				err := a.withCatalog(ctx, cmd, "furrow catalog namespaces", serverURL, api.ScopeRead, func(c *apiClient) error {
					return getJSON(ctx, c, "/api/v1/catalog/namespaces", &out)
				}, func(c *catalog.Catalog) (err error) {
					if out.Owned, err = c.Owners(ctx); err != nil {
						return err
					}
					out.Unowned, err = c.Unowned(ctx)
					return err
				})
				if err != nil {
					return err
				}
				return printNamespaces(cmd.OutOrStdout(), out.Owned, out.Unowned)
			},
		},
	)
	return cmd
}

func printNamespaces(w io.Writer, owned []catalog.Owner, unowned []catalog.Namespace) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CLUSTER\tNAMESPACE\tPROJECT\tTEAM\tSLACK")
	for _, o := range owned {
		team := o.Team + " (" + o.TeamName + ")"
		if o.TeamArchived {
			team += " ARCHIVED: needs a new owner"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", o.Cluster, o.Namespace, o.Project, team, o.SlackChannel)
	}
	for _, n := range unowned {
		fmt.Fprintf(tw, "%s\t%s\t(unowned)\t-\t-\n", n.Cluster, n.Namespace)
	}
	return tw.Flush()
}
