package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/furrowdev/furrow/api"
	"github.com/furrowdev/furrow/store"
	"github.com/furrowdev/furrow/store/embedded"
)

// apiClient talks to a running `furrow serve`: commands whose data
// directory is held by a server hand their work to it instead of failing.
type apiClient struct {
	base   string
	token  string
	source string // where token came from, for errors: never the token
	http   *http.Client
}

// tokenHelp is what a client command's --help and its 401 errors say
// about the token.
const tokenHelp = `A server with tokens (http.tokens, http.tokens_file) wants one of them.
The token is taken from, in order: env FURROW_TOKEN, the file of
--token-file, then this command's own configuration (http.tokens, then
http.tokens_file), so running with the server's --config is enough. From a
file or the configuration, the first token with the scope the command needs
is taken: read for furrow sql and furrow ingest status, ingest for the
hand-over of furrow ingest flowlogs|pods (tokens file lines "SUBJECT
SCOPES TOKEN"; a bare token has the read scope only). There is no --token
flag: a flag would show the token to every user of ps and keep it in shell
history.`

// newAPIClient builds a client for base (http://host:port) with the token
// tokenHelp describes, the first one granting scope; source names where it
// came from, for errors.
func (a *app) newAPIClient(base string, scope api.Scope) (*apiClient, error) {
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	c := &apiClient{base: strings.TrimRight(base, "/"), http: &http.Client{Timeout: 0}}
	if tok := os.Getenv("FURROW_TOKEN"); tok != "" {
		c.token, c.source = tok, "FURROW_TOKEN"
		return c, nil
	}
	if a.tokenFile != "" {
		// The tokens file format, read by the server's own reader, so a
		// file that works for one works for the other.
		toks, err := api.Configuration{TokensFile: a.tokenFile}.AllTokens()
		if err != nil {
			return nil, fmt.Errorf("--token-file: %w", err)
		}
		if len(toks) == 0 {
			return nil, fmt.Errorf("--token-file %s holds no token", a.tokenFile)
		}
		t, ok := api.First(toks, scope)
		if !ok {
			return nil, fmt.Errorf("--token-file %s holds no token with the %s scope: add a line \"SUBJECT %s TOKEN\" (or admin)", a.tokenFile, scope, scope)
		}
		c.token, c.source = t.Secret.Reveal(), "--token-file "+a.tokenFile+" (subject "+t.Subject+")"
		return c, nil
	}
	toks, err := a.cfg.HTTP.AllTokens()
	if err != nil {
		return nil, fmt.Errorf("http: %w", err)
	}
	// No token with the scope: send none, and the server's 401 or 403
	// says what is missing.
	if t, ok := api.First(toks, scope); ok {
		c.token, c.source = t.Secret.Reveal(), "the configuration (http.tokens, http.tokens_file; subject "+t.Subject+")"
	}
	return c, nil
}

// unauthorized turns a 401 into what to do about it.
func (c *apiClient) unauthorized(serverMsg string) error {
	if c.token == "" {
		return fmt.Errorf("furrow server at %s wants a token (HTTP 401: %s): set FURROW_TOKEN to one of its tokens (http.tokens or http.tokens_file of its configuration), pass --token-file FILE, or run this command with the server's --config", c.base, serverMsg)
	}
	return fmt.Errorf("furrow server at %s refused the token from %s (HTTP 401: %s): it is not one of the server's http.tokens or http.tokens_file; set FURROW_TOKEN or --token-file to one of them", c.base, c.source, serverMsg)
}

// do sends a request and returns the response when it is a 2xx; otherwise
// the server's JSON error becomes the error.
func (c *apiClient) do(ctx context.Context, method, path, contentType string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("furrow server at %s: %w", c.base, err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var e struct {
		Error string `json:"error"`
	}
	hasMsg := json.Unmarshal(b, &e) == nil && e.Error != ""
	if resp.StatusCode == http.StatusUnauthorized {
		if !hasMsg {
			e.Error = "unauthorized"
		}
		return nil, c.unauthorized(e.Error)
	}
	if hasMsg {
		return nil, fmt.Errorf("furrow server: %s (HTTP %d)", e.Error, resp.StatusCode)
	}
	return nil, fmt.Errorf("furrow server: HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
}

// waitReady polls /readyz until it answers 200 or timeout passes.
func (c *apiClient) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		resp, err := c.do(ctx, http.MethodGet, "/readyz", "", nil)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// heldAddress is the API address of the furrow serve holding the embedded
// data directory, or "" when none does.
func (a *app) heldAddress() string {
	if a.cfg.Store.Backend != "embedded" {
		return ""
	}
	if h, held := embedded.ReadHolder(a.cfg.Data); held {
		return h.Address
	}
	return ""
}

// handOver posts in as JSON to path, which starts a job on the server,
// and, unless detach, follows the job to its end (see followJob). The job
// is returned either way.
func (a *app) handOver(ctx context.Context, stderr io.Writer, base, path string, in any, detach bool) (api.Job, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return api.Job{}, err
	}
	c, err := a.newAPIClient(base, api.ScopeIngest)
	if err != nil {
		return api.Job{}, err
	}
	resp, err := c.do(ctx, http.MethodPost, path, "application/json", bytes.NewReader(body))
	if err != nil {
		return api.Job{}, err
	}
	var jb api.Job
	err = json.NewDecoder(resp.Body).Decode(&jb)
	resp.Body.Close()
	if err != nil {
		return api.Job{}, fmt.Errorf("furrow server at %s: read the job: %w", c.base, err)
	}
	if detach {
		return jb, nil
	}
	fmt.Fprintf(stderr, "furrow: job %s %s (Ctrl-C cancels it; --detach leaves it running)\n", jb.ID, jb.State)
	return c.followJob(ctx, stderr, jb.ID)
}

// jobPoll is how often a followed job is asked about; its progress is
// printed when it changed.
const jobPoll = 500 * time.Millisecond

// followJob polls job id until it ends, printing its progress to stderr.
// When ctx is done (Ctrl-C), it cancels the job and waits for it to stop,
// so that an interrupted command leaves nothing running behind it.
func (c *apiClient) followJob(ctx context.Context, stderr io.Writer, id string) (api.Job, error) {
	var last api.Job
	poll, interrupted := ctx, false
	for {
		if ctx.Err() != nil && !interrupted {
			// Ctrl-C: cancel the job, then follow it to its end, which
			// ctx can no longer bound.
			interrupted, poll = true, context.Background()
			fmt.Fprintf(stderr, "furrow: interrupted: cancelling job %s\n", id)
			dctx, dcancel := context.WithTimeout(poll, 30*time.Second)
			resp, err := c.do(dctx, http.MethodDelete, api.JobsPath+"/"+id, "", nil)
			dcancel()
			if err != nil {
				return last, fmt.Errorf("cancel job %s: %w (it may still run: furrow ingest cancel %s)", id, err, id)
			}
			resp.Body.Close()
		}
		jb, err := c.getJob(poll, id)
		if err != nil {
			if ctx.Err() != nil && !interrupted {
				continue // cut by Ctrl-C: cancel first
			}
			return last, err
		}
		if jb.State != last.State || jb.Progress != last.Progress {
			p := jb.Progress
			fmt.Fprintf(stderr, "furrow: job %s %s: %d/%d objects, %d records read, %d stored, %d rejected\n",
				id, jb.State, p.ObjectsDone, p.ObjectsTotal, p.RecordsRead, p.RecordsStored, p.RecordsRejected)
		}
		last = jb
		if jb.State.Final() {
			return jb, nil
		}
		select {
		case <-poll.Done():
		case <-time.After(jobPoll):
		}
	}
}

func (c *apiClient) getJob(ctx context.Context, id string) (api.Job, error) {
	resp, err := c.do(ctx, http.MethodGet, api.JobsPath+"/"+id, "", nil)
	if err != nil {
		return api.Job{}, err
	}
	defer resp.Body.Close()
	var jb api.Job
	if err := json.NewDecoder(resp.Body).Decode(&jb); err != nil {
		return api.Job{}, fmt.Errorf("furrow server at %s: read job %s: %w", c.base, id, err)
	}
	return jb, nil
}

// jobOutcome decodes a followed job's result into out and says how the
// command ends: nil when the job is done (out then decides, e.g. a failed
// Summary), an exit error when it was cancelled or failed without result.
func jobOutcome(jb api.Job, out any) error {
	if len(jb.Result) > 0 {
		if err := json.Unmarshal(jb.Result, out); err != nil {
			return fmt.Errorf("job %s: read its result: %w", jb.ID, err)
		}
	}
	switch jb.State {
	case api.JobCancelled:
		return &exitError{code: 1, err: fmt.Errorf("job %s cancelled: objects finished before stay ingested, the one in progress is not recorded; run the same command again to complete it", jb.ID)}
	case api.JobFailed:
		if len(jb.Result) == 0 {
			return &exitError{code: 1, err: fmt.Errorf("job %s failed: %s", jb.ID, jb.Error)}
		}
	}
	return nil
}

// throughServerOrStore is the one way a CLI command that can work either
// through a running furrow server or on the store itself decides which:
//   - --server given: through that server;
//   - the embedded data directory held by a furrow serve: through it
//     (announced on stderr, so that the user knows where the work runs);
//     held by a process with no API: an error naming it;
//   - otherwise the store is opened (migrated when migrate is set), and a
//     server that took the directory in between is used after all.
func (a *app) throughServerOrStore(ctx context.Context, cmd *cobra.Command, command, serverURL string, migrate bool,
	remote func(base string) error, local func(s store.Store) error) error {
	if serverURL != "" {
		return remote(serverURL)
	}
	if a.cfg.Store.Backend == "embedded" {
		if h, held := embedded.ReadHolder(a.cfg.Data); held {
			if h.Address == "" {
				return fmt.Errorf("data directory %s is held by %q (pid %d), which serves no API; stop it or use --server", a.cfg.Data, h.Command, h.PID)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "furrow: %s is held by furrow serve (pid %d); going through http://%s\n", a.cfg.Data, h.PID, h.Address)
			return remote(h.Address)
		}
	}
	s, err := a.openStore(ctx, command, migrate)
	if err != nil {
		if le, ok := heldBy(err); ok && le.Holder.Address != "" {
			// Taken between the look at the lock file and the open.
			return remote(le.Holder.Address)
		}
		return err
	}
	defer s.Close()
	return local(s)
}
