package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/furrowdev/furrow/api"
	"github.com/furrowdev/furrow/deployer"
	dkube "github.com/furrowdev/furrow/deployer/kube"
	"github.com/furrowdev/furrow/deployer/spec"
	"github.com/furrowdev/furrow/kube"
)

// The commands that deploy and operate through a running furrow serve
// (its deployer API, docs/deployer.md "Deploying: the CLI"), and the
// local diff against the clusters.

// deployServer is the server a deploy command talks to: --server, else
// the furrow serve holding the data directory.
func (a *app) deployServer(serverURL string) (string, error) {
	if serverURL != "" {
		return serverURL, nil
	}
	if addr := a.heldAddress(); addr != "" {
		return addr, nil
	}
	return "", errors.New("no furrow serve holds the data directory: pass --server http://host:port of the server that deploys (deployer.enabled), or --data of that server")
}

// deployClient is a client of the deploying server with a token of scope.
func (a *app) deployClient(serverURL string, scope api.Scope) (*apiClient, error) {
	addr, err := a.deployServer(serverURL)
	if err != nil {
		return nil, err
	}
	return a.newAPIClient(addr, scope)
}

// deployCall sends a request to the deployer's API and returns the
// status and body of any answer but a 401, which becomes what to do about
// the token.
func deployCall(ctx context.Context, c *apiClient, method, path string, in any) (int, []byte, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+"/api/v1"+path, body)
	if err != nil {
		return 0, nil, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("furrow server at %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return 0, nil, fmt.Errorf("furrow server at %s: %w", c.base, err)
	}
	if resp.StatusCode == http.StatusUnauthorized {
		var e deployer.ErrorBody
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			e.Error = "unauthorized"
		}
		return resp.StatusCode, b, c.unauthorized(e.Error)
	}
	return resp.StatusCode, b, nil
}

// startAction posts an action and prints "ACTION N started"; a refused
// one (another deploy runs, a bad spec) is an exit-1 error naming why,
// each spec problem on its own line of w (file:line:column: field:
// message).
func startAction(ctx context.Context, c *apiClient, path string, in any, out, errw io.Writer) (deployer.Record, error) {
	status, b, err := deployCall(ctx, c, http.MethodPost, path, in)
	if err != nil {
		return deployer.Record{}, err
	}
	if status == http.StatusAccepted || status == http.StatusOK {
		var r deployer.Record
		if err := json.Unmarshal(b, &r); err != nil {
			return r, fmt.Errorf("furrow server at %s: read the deploy: %w", c.base, err)
		}
		fmt.Fprintf(out, "%s %d started\n", actionName(r.Action), r.ID)
		return r, nil
	}
	var e deployer.ErrorBody
	if json.Unmarshal(b, &e) != nil || e.Error == "" {
		e.Error = fmt.Sprintf("HTTP %d: %s", status, strings.TrimSpace(string(b)))
	}
	switch {
	case status == http.StatusBadRequest && len(e.Problems) > 0:
		for _, p := range e.Problems {
			fmt.Fprintln(errw, p.Error())
		}
		return deployer.Record{}, &exitError{code: 1, err: fmt.Errorf("the spec has %d problems: nothing was deployed", len(e.Problems))}
	case status == http.StatusConflict, status == http.StatusBadRequest:
		return deployer.Record{}, &exitError{code: 1, err: errors.New(e.Error)}
	case status == http.StatusNotFound:
		return deployer.Record{}, fmt.Errorf("furrow server at %s has no deployer API (HTTP 404): is deployer.enabled set in its configuration?", c.base)
	}
	return deployer.Record{}, fmt.Errorf("furrow server at %s: %s (HTTP %d)", c.base, e.Error, status)
}

// actionName is an action as the CLI names it.
func actionName(action string) string {
	if action == deployer.ActionTrigger {
		return "trigger"
	}
	return action
}

// streamRetries is how many reconnections in a row, without an event in
// between, a followed stream tries before giving up.
const streamRetries = 10

// streamBackoff is the wait before a reconnection when the server set no
// retry.
const streamBackoff = time.Second

// followDeploy reads deploy id's live stream (GET /deploys/ID/stream),
// printing each line to w as "HH:MM:SS [cluster] stage: message", until
// its `done` event, whose record it returns. A dropped connection is
// resumed with Last-Event-ID, so no line is printed twice or missed.
func followDeploy(ctx context.Context, c *apiClient, id int64, w io.Writer) (deployer.Record, error) {
	lastID := ""
	failures, backoff := 0, streamBackoff
	var lastErr error
	for {
		if failures > 0 {
			if failures > streamRetries {
				return deployer.Record{}, fmt.Errorf("deploy %d: the stream dropped %d times in a row (%v); it still runs on the server: furrow deploy status %d --follow", id, failures-1, lastErr, id)
			}
			select {
			case <-ctx.Done():
				return deployer.Record{}, ctx.Err()
			case <-time.After(backoff):
			}
		}
		done, rec, progressed, retry, err := readStream(ctx, c, id, &lastID, w)
		if done {
			return rec, nil
		}
		if ctx.Err() != nil {
			return deployer.Record{}, ctx.Err()
		}
		var fatal *streamFatal
		if errors.As(err, &fatal) {
			return deployer.Record{}, fatal.err
		}
		if progressed {
			failures = 0
		}
		failures++
		lastErr = err
		if retry > 0 {
			backoff = retry
		}
	}
}

// streamFatal is an answer a reconnection cannot fix (404, 403…).
type streamFatal struct{ err error }

func (e *streamFatal) Error() string { return e.err.Error() }

// readStream reads one connection of the stream; *lastID is updated as
// events come. It says whether the done event came (and its record),
// whether any event came, and the retry the server asked for.
func readStream(ctx context.Context, c *apiClient, id int64, lastID *string, w io.Writer) (bool, deployer.Record, bool, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/api/v1%s/%d/stream", c.base, deployer.PathDeploys, id), nil)
	if err != nil {
		return false, deployer.Record{}, false, 0, &streamFatal{err}
	}
	req.Header.Set("Accept", "text/event-stream")
	if *lastID != "" {
		req.Header.Set("Last-Event-ID", *lastID)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return false, deployer.Record{}, false, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		var e deployer.ErrorBody
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(b))
		}
		err := fmt.Errorf("furrow server at %s: deploy %d's stream: %s (HTTP %d)", c.base, id, e.Error, resp.StatusCode)
		if resp.StatusCode == http.StatusUnauthorized {
			err = c.unauthorized(e.Error)
		}
		if resp.StatusCode/100 == 4 {
			return false, deployer.Record{}, false, 0, &streamFatal{err}
		}
		return false, deployer.Record{}, false, 0, err
	}
	sr := newSSEReader(resp.Body, *lastID)
	progressed := false
	for {
		ev, err := sr.Next()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF // the server ends a stream only after done
			}
			return false, deployer.Record{}, progressed, sr.Retry(), err
		}
		progressed = true
		*lastID = sr.LastID()
		switch ev.Event {
		case "log":
			var l deployer.LogLine
			if err := json.Unmarshal([]byte(ev.Data), &l); err != nil {
				fmt.Fprintf(w, "(unreadable line %s: %v)\n", ev.ID, err)
				continue
			}
			fmt.Fprintln(w, formatLogLine(l))
		case "done":
			var r deployer.Record
			if err := json.Unmarshal([]byte(ev.Data), &r); err != nil {
				return false, r, progressed, 0, &streamFatal{fmt.Errorf("deploy %d: read its final record: %w", id, err)}
			}
			return true, r, true, 0, nil
		}
	}
}

// formatLogLine is "HH:MM:SS [cluster] stage: message" (no brackets for
// a line about the whole action).
func formatLogLine(l deployer.LogLine) string {
	var b strings.Builder
	b.WriteString(l.At.Local().Format("15:04:05"))
	if l.Cluster != "" {
		fmt.Fprintf(&b, " [%s]", l.Cluster)
	}
	fmt.Fprintf(&b, " %s: %s", l.Stage, l.Message)
	return b.String()
}

// outcome prints how a followed action ended and turns a failure into
// exit status 1.
func outcome(r deployer.Record, w io.Writer) error {
	name := fmt.Sprintf("%s %d", actionName(r.Action), r.ID)
	if r.State == deployer.StateSucceeded {
		fmt.Fprintf(w, "%s succeeded in %s\n", name, roundDuration(r.Duration()))
		return nil
	}
	for _, t := range r.Targets {
		if t.State == deployer.StateFailed {
			fmt.Fprintf(w, "  %s (%s): %s: %s\n", t.Cluster, t.Region, t.Cause, t.Message)
			for _, l := range t.LogTail {
				fmt.Fprintf(w, "    | %s\n", l)
			}
		}
	}
	return &exitError{code: 1, err: fmt.Errorf("%s %s: %s: %s", name, r.State, r.Cause, r.Message)}
}

func roundDuration(d time.Duration) time.Duration {
	if d >= time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(100 * time.Millisecond)
}

// runAction starts an action and, with follow, prints its stream and
// outcome.
func (a *app) runAction(cmd *cobra.Command, serverURL, path string, in any, follow bool) error {
	ctx, cancel := signalContext()
	defer cancel()
	c, err := a.deployClient(serverURL, api.ScopeWrite)
	if err != nil {
		return err
	}
	r, err := startAction(ctx, c, path, in, cmd.OutOrStdout(), cmd.ErrOrStderr())
	if err != nil || !follow {
		return err
	}
	final, err := followDeploy(ctx, c, r.ID, cmd.OutOrStdout())
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted: %s %d goes on on the server (furrow deploy status %d --follow)", actionName(r.Action), r.ID, r.ID)
		}
		return err
	}
	return outcome(final, cmd.OutOrStdout())
}

func newDeployRunCmd(a *app) *cobra.Command {
	var (
		env, serverURL, commitSHA, commitTime string
		prune                                 []string
		follow                                bool
	)
	cmd := &cobra.Command{
		Use:   "run SPEC --env ENV",
		Short: "Deploy a spec to the clusters of an environment, through furrow serve (--follow: print its progress)",
		Long: `Send the spec to the deployer of a running furrow serve (POST /api/v1/deploys,
with a token of the write scope) and print "deploy N started". The server
checks the spec against the company rules and its clusters, takes the
project's environment's lock, resolves the secrets, renders, applies and
watches every cluster in parallel.

Exit status 1 when the deploy is refused: another deploy of the project and
environment runs (the answer names it: "deploy N by NAME in progress since
T"), or the spec has problems (each printed as file:line:column: field:
message). A region removed from the spec whose workloads still run stops
the deploy unless --prune REGION names it.

With --follow, the deploy's live stream is printed, one line per step
("HH:MM:SS [cluster] stage: message"), resuming where it was if the
connection drops, then the outcome; the exit status is 1 when the deploy
failed. Ctrl-C stops following, not the deploy.

` + tokenHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if env == "" {
				return errors.New("--env is required: the environment to deploy")
			}
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			body := deployer.DeployBody{Spec: string(data), SpecFile: filepath.Base(args[0]), Environment: env, Prune: prune, CommitSHA: commitSHA}
			if commitTime != "" {
				if body.CommitTime, err = time.Parse(time.RFC3339, commitTime); err != nil {
					return fmt.Errorf("--commit-time %q: want RFC 3339 (e.g. 2026-01-02T15:04:05Z, git log -1 --format=%%cI)", commitTime)
				}
			}
			return a.runAction(cmd, serverURL, deployer.PathDeploys, body, follow)
		},
	}
	f := cmd.Flags()
	f.StringVar(&env, "env", "", "the spec's environment to deploy (required)")
	f.StringArrayVar(&prune, "prune", nil, "delete the workloads of this region, removed from the spec (repeatable)")
	f.StringVar(&commitSHA, "commit-sha", "", "the commit deployed (for lead time in the deploy metrics)")
	f.StringVar(&commitTime, "commit-time", "", "the commit's time, RFC 3339")
	f.BoolVar(&follow, "follow", false, "print the deploy's progress until it ends; exit 1 if it failed")
	f.StringVar(&serverURL, "server", "", "the furrow server (default: the one holding --data)")
	return cmd
}

// newDeployOpCmd is rollback, restart, scale or trigger.
func newDeployOpCmd(a *app, action string) *cobra.Command {
	var (
		env, serverURL, cronJob string
		to                      int64
		replicas                int32
		follow                  bool
	)
	uses := map[string][2]string{
		deployer.ActionRollback: {"rollback PROJECT --env ENV [--to ID]", "Deploy again an earlier successful revision (default: the one before the current, or the last good after a failure)"},
		deployer.ActionRestart:  {"restart PROJECT --env ENV", "Restart a service's pods (a rolling restart) in every cluster of the environment"},
		deployer.ActionScale:    {"scale PROJECT --env ENV --replicas N", "Set a service's replicas in every cluster of the environment (not for an autoscaled service)"},
		deployer.ActionTrigger:  {"trigger PROJECT --env ENV --cronjob NAME", "Run one of a service's CronJobs now, in every cluster of the environment, and keep its logs"},
	}
	path := map[string]string{deployer.ActionRollback: "/rollback", deployer.ActionRestart: "/restart", deployer.ActionScale: "/scale", deployer.ActionTrigger: "/trigger"}[action]
	cmd := &cobra.Command{
		Use:   uses[action][0],
		Short: uses[action][1] + ", through furrow serve",
		Long: uses[action][1] + `. The action takes the project's environment's
lock like a deploy, is recorded in the history and prints "` + actionName(action) + ` N started";
--follow prints its progress and outcome (exit 1 if it failed). Refused
(another deploy runs, nothing deployed yet…): exit 1 with the reason.

` + tokenHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if env == "" {
				return errors.New("--env is required")
			}
			body := deployer.OpBody{Project: args[0], Environment: env, To: to, CronJob: cronJob}
			switch action {
			case deployer.ActionScale:
				if !cmd.Flags().Changed("replicas") {
					return errors.New("--replicas is required")
				}
				if replicas < 0 {
					return errors.New("--replicas: must not be negative")
				}
				body.Replicas = &replicas
			case deployer.ActionTrigger:
				if cronJob == "" {
					return errors.New("--cronjob is required: the spec's name of the CronJob")
				}
			}
			return a.runAction(cmd, serverURL, deployer.PathDeploys+path, body, follow)
		},
	}
	f := cmd.Flags()
	f.StringVar(&env, "env", "", "the environment (required)")
	f.BoolVar(&follow, "follow", false, "print the progress until it ends; exit 1 if it failed")
	f.StringVar(&serverURL, "server", "", "the furrow server (default: the one holding --data)")
	switch action {
	case deployer.ActionRollback:
		f.Int64Var(&to, "to", 0, "the deploy id to restore (a successful deploy or rollback of this project and environment)")
	case deployer.ActionScale:
		f.Int32Var(&replicas, "replicas", 0, "the replica count (required)")
	case deployer.ActionTrigger:
		f.StringVar(&cronJob, "cronjob", "", "the spec's name of the CronJob (required)")
	}
	return cmd
}

func newDeployHistoryCmd(a *app) *cobra.Command {
	var (
		env, serverURL, format string
		limit                  int
	)
	cmd := &cobra.Command{
		Use:   "history [PROJECT]",
		Short: "List the deploys, rollbacks, restarts, scale changes and CronJob runs, newest first",
		Long: `List the deployer's history (GET /api/v1/deploys), newest first: id,
action, state, project, environment, image, who (the employee the catalog
knows by the token's subject, else the subject), start, duration and the
failure's cause. --format json prints the records.

` + tokenHelp,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "table" && format != "json" {
				return fmt.Errorf("--format %q: want table or json", format)
			}
			ctx, cancel := signalContext()
			defer cancel()
			c, err := a.deployClient(serverURL, api.ScopeRead)
			if err != nil {
				return err
			}
			q := url.Values{"limit": {strconv.Itoa(limit)}}
			if len(args) == 1 {
				q.Set("project", args[0])
			}
			if env != "" {
				q.Set("environment", env)
			}
			status, b, err := deployCall(ctx, c, http.MethodGet, deployer.PathDeploys+"?"+q.Encode(), nil)
			if err != nil {
				return err
			}
			if status != http.StatusOK {
				return serverError(c, status, b)
			}
			var list []deployer.Record
			if err := json.Unmarshal(b, &list); err != nil {
				return fmt.Errorf("furrow server at %s: read the history: %w", c.base, err)
			}
			if format == "json" {
				return writeJSON(cmd, list)
			}
			return printHistory(cmd.OutOrStdout(), list)
		},
	}
	f := cmd.Flags()
	f.StringVar(&env, "env", "", "only this environment")
	f.IntVar(&limit, "limit", 50, "at most this many (1 to 1000)")
	f.StringVar(&format, "format", "table", "table or json")
	f.StringVar(&serverURL, "server", "", "the furrow server (default: the one holding --data)")
	return cmd
}

func serverError(c *apiClient, status int, b []byte) error {
	var e deployer.ErrorBody
	if json.Unmarshal(b, &e) != nil || e.Error == "" {
		e.Error = strings.TrimSpace(string(b))
	}
	if status == http.StatusNotFound && e.Error == "" {
		e.Error = "not found: is deployer.enabled set in its configuration?"
	}
	return fmt.Errorf("furrow server at %s: %s (HTTP %d)", c.base, e.Error, status)
}

func printHistory(w io.Writer, list []deployer.Record) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tACTION\tSTATE\tPROJECT\tENV\tIMAGE\tBY\tSTARTED\tDURATION\tCAUSE")
	for _, r := range list {
		dur := "-"
		if !r.FinishedAt.IsZero() {
			dur = roundDuration(r.Duration()).String()
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, actionName(r.Action), r.State, r.Project, r.Environment,
			orDash(r.Image), orDash(r.Who()), r.StartedAt.UTC().Format("2006-01-02 15:04:05"), dur, orDash(r.Cause))
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newDeployStatusCmd(a *app) *cobra.Command {
	var (
		serverURL string
		follow    bool
	)
	cmd := &cobra.Command{
		Use:   "status ID",
		Short: "Show a deploy's record (JSON), or --follow its progress to the end",
		Long: `Print deploy ID's record as JSON (GET /api/v1/deploys/ID): its state,
who, image, secret versions (never values), and per cluster its state and
cause. With --follow, print its live stream from the start instead, then
its outcome; the exit status is 1 when it failed.

` + tokenHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return fmt.Errorf("%q: want a deploy id (furrow deploy history lists them)", args[0])
			}
			ctx, cancel := signalContext()
			defer cancel()
			c, err := a.deployClient(serverURL, api.ScopeRead)
			if err != nil {
				return err
			}
			if follow {
				r, err := followDeploy(ctx, c, id, cmd.OutOrStdout())
				if err != nil {
					return err
				}
				return outcome(r, cmd.OutOrStdout())
			}
			status, b, err := deployCall(ctx, c, http.MethodGet, fmt.Sprintf("%s/%d", deployer.PathDeploys, id), nil)
			if err != nil {
				return err
			}
			if status != http.StatusOK {
				return serverError(c, status, b)
			}
			var r deployer.Record
			if err := json.Unmarshal(b, &r); err != nil {
				return fmt.Errorf("furrow server at %s: read deploy %d: %w", c.base, id, err)
			}
			return writeJSON(cmd, r)
		},
	}
	cmd.Flags().BoolVar(&follow, "follow", false, "print the progress until it ends; exit 1 if it failed")
	cmd.Flags().StringVar(&serverURL, "server", "", "the furrow server (default: the one holding --data)")
	return cmd
}

// diffChanges is the exit status of a diff with changes, as diff(1).
const diffChanges = 2

func newDeployDiffCmd(a *app) *cobra.Command {
	var env, team string
	cmd := &cobra.Command{
		Use:   "diff SPEC --env ENV",
		Short: "Show what deploying a spec would change in each cluster (server-side dry run); exit 2 when something would",
		Long: `Render the spec for every cluster of --env (the clusters of the
configuration's deployer.clusters, the company rules of deployer.rules) and
compare each object with the live one through a server-side apply dry run:
each object is printed created, changed (with a unified diff of its YAML)
or unchanged. Nothing is changed in the clusters and no furrow server is
needed; the kubeconfig of each deployer.clusters entry must allow reading
and dry-run applying.

The team label and the deploy-id annotation are taken from the live
Deployment when there is one (a first deploy: --team), so that only what
the spec changes shows. Secrets are not read from Secrets Manager: the
Secret object is left out, Secret values are never printed.

Exit status: 0 nothing would change, 2 something would (like diff(1)),
1 an error.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if env == "" {
				return errors.New("--env is required: the environment to compare")
			}
			ctx, cancel := signalContext()
			defer cancel()
			p, err := spec.Load(args[0])
			if err != nil {
				return err
			}
			cfg := a.cfg.Deployer
			rules := cfg.Rules
			if len(rules.Clusters) == 0 {
				for _, cl := range cfg.Clusters {
					rules.Clusters = append(rules.Clusters, spec.KnownCluster{Name: cl.Name, Region: cl.Region})
				}
			}
			if err := p.Validate(rules); err != nil {
				return err
			}
			targets, err := p.Targets(env)
			if err != nil {
				return err
			}
			byName := map[string]deployer.ClusterConfiguration{}
			for _, cl := range cfg.Clusters {
				byName[cl.Name] = cl
			}
			w := cmd.OutOrStdout()
			changes := 0
			for _, t := range targets {
				cl, ok := byName[t.Cluster]
				if !ok {
					return fmt.Errorf("%s: environment %s: cluster %q is not in deployer.clusters of the configuration", args[0], env, t.Cluster)
				}
				n, err := diffTarget(ctx, w, p, t, cl, team, &rules)
				if err != nil {
					return fmt.Errorf("%s: %w", t, err)
				}
				changes += n
			}
			if changes > 0 {
				return &exitError{code: diffChanges, err: fmt.Errorf("%d objects would be created or changed", changes)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&env, "env", "", "the environment to compare (required)")
	cmd.Flags().StringVar(&team, "team", "unassigned", "owner team for the furrow.dev/team label when the service is not deployed yet (a deploy takes it from the catalog)")
	return cmd
}

// diffTarget prints the diff of one target and returns how many objects
// would be created or changed.
func diffTarget(ctx context.Context, w io.Writer, p *spec.Project, t spec.Target, cl deployer.ClusterConfiguration, team string, rules *spec.Rules) (int, error) {
	_, rc, err := kube.RESTConfig(cl.Cluster)
	if err != nil {
		return 0, err
	}
	k, err := dkube.NewCluster(cl.Name, rc)
	if err != nil {
		return 0, err
	}
	in := spec.RenderInput{Team: team, UnresolvedSecrets: true, Rules: rules}
	// What the last deploy labelled the live objects with.
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return 0, err
	}
	live, err := cs.AppsV1().Deployments(p.NamespaceFor(t.Environment)).Get(ctx, p.Service, metav1.GetOptions{})
	switch {
	case err == nil:
		if v := live.Labels[spec.LabelTeam]; v != "" {
			in.Team = v
		}
		if v := live.Labels[spec.LabelProject]; v != "" {
			in.ProjectID = v
		}
		if id, err := strconv.ParseInt(live.Annotations[spec.AnnotationDeploy], 10, 64); err == nil {
			in.DeployID = id
		}
	case apierrors.IsNotFound(err):
	default:
		return 0, fmt.Errorf("read the live Deployment %s/%s: %w", p.NamespaceFor(t.Environment), p.Service, err)
	}
	objs, err := spec.Render(p, t, in)
	if err != nil {
		return 0, err
	}
	diffs, err := k.Diff(ctx, objs)
	if err != nil {
		return 0, err
	}
	n := 0
	fmt.Fprintf(w, "# %s\n", t)
	for _, d := range diffs {
		fmt.Fprintf(w, "%s %s\n", d.Action, d.Object)
		if d.Action != dkube.DiffUnchanged {
			n++
			if d.Diff != "" {
				fmt.Fprint(w, d.Diff)
				if !strings.HasSuffix(d.Diff, "\n") {
					fmt.Fprintln(w)
				}
			}
		}
	}
	return n, nil
}
