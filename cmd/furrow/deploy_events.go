package main

import (
	"context"
	"fmt"
	"io"
	"net/mail"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/furrowdev/furrow/catalog"
	"github.com/furrowdev/furrow/deployer/events"
)

// newDeployEventsCommand is the deploy events commands under name: the
// `events` group of `furrow deploy` once that group exists, until then
// the standalone `furrow deploy-events`.
func newDeployEventsCommand(a *app, name string) *cobra.Command {
	cmd := &cobra.Command{Use: name, Short: "Deploy events (deploy_events): load saved events"}
	load := &cobra.Command{
		Use:   "load FILE...",
		Short: "Load deploy events from JSON-lines files into deploy_events",
		Long: `Loads files of deploy events, one JSON object a line with the columns of
deploy_events (furrow demo generate writes one: deploy-events.jsonl). Each line
is validated; a bad line is reported as FILE:LINE: reason and skipped, the
others are loaded, and the command fails at the end. Loading a file again
stores nothing twice (each event's deduplication token is its content).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := signalContext()
			defer cancel()
			return a.loadDeployEvents(ctx, cmd.OutOrStdout(), args)
		},
	}
	cmd.AddCommand(load)
	return cmd
}

func (a *app) loadDeployEvents(ctx context.Context, w io.Writer, files []string) error {
	s, err := a.openStore(ctx, "furrow deploy events load", true)
	if err != nil {
		return err
	}
	defer s.Close()
	wr := events.NewWriter(s)
	var bad []string
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		rep, err := wr.Load(ctx, name, f)
		f.Close()
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s: %d events written (a reload stores them once), %d bad lines\n", name, rep.Written, len(rep.Bad))
		bad = append(bad, rep.Bad...)
	}
	if len(bad) > 0 {
		for _, b := range bad {
			fmt.Fprintln(w, "  "+b)
		}
		return fmt.Errorf("%d lines or files not loaded (listed above)", len(bad))
	}
	return nil
}

// deployDirectory resolves external deploy events' repositories,
// applications and people through the catalog.
type deployDirectory struct{ cat *catalog.Catalog }

// normRepo reduces a repository reference (https://github.com/o/r.git,
// git@github.com:o/r, o/r) to o/r in lower case.
func normRepo(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimSuffix(strings.TrimSuffix(s, "/"), ".git")
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if i := strings.LastIndexAny(s, "@"); i >= 0 {
		s = s[i+1:]
	}
	s = strings.Replace(s, ":", "/", 1)
	parts := strings.Split(s, "/")
	if len(parts) >= 2 {
		return parts[len(parts)-2] + "/" + parts[len(parts)-1]
	}
	return s
}

// ProjectOf matches a project's id, or one of its repositories.
func (d deployDirectory) ProjectOf(ctx context.Context, key string) (string, string, bool) {
	ps, err := d.cat.Projects(ctx)
	if err != nil {
		return "", "", false
	}
	for _, p := range ps {
		if p.ID == key {
			return p.ID, p.OwnerTeam, true
		}
	}
	want := normRepo(key)
	for _, p := range ps {
		for _, r := range p.Repos {
			if strings.Contains(key, "/") && normRepo(r) == want {
				return p.ID, p.OwnerTeam, true
			}
		}
	}
	return "", "", false
}

// PersonOf matches an employee id or an email (also in "Name <email>").
func (d deployDirectory) PersonOf(ctx context.Context, login string) (string, string, bool) {
	people, err := d.cat.People(ctx)
	if err != nil {
		return "", "", false
	}
	email := login
	if addr, err := mail.ParseAddress(login); err == nil {
		email = addr.Address
	}
	for _, p := range people {
		if p.EmployeeID == login || (p.Email != "" && strings.EqualFold(p.Email, email)) {
			return p.EmployeeID, p.Name, true
		}
	}
	return "", "", false
}

var _ events.Directory = deployDirectory{}
