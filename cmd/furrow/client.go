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

	"github.com/furrowdev/furrow/api"
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
// about the token; every token of the server grants all of /api/v1, so any
// of them will do.
const tokenHelp = `A server with tokens (http.tokens, http.tokens_file) wants one of them.
The token is taken from, in order: env FURROW_TOKEN, the file of
--token-file, then this command's own configuration (http.tokens, then
http.tokens_file), so running with the server's --config is enough. Every
token of the server grants the whole API. There is no --token flag: a flag
would show the token to every user of ps and keep it in shell history.`

// newAPIClient builds a client for base (http://host:port) with the token
// tokenHelp describes; source names where it came from, for errors.
func (a *app) newAPIClient(base string) (*apiClient, error) {
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
		c.token, c.source = toks[0].Reveal(), "--token-file "+a.tokenFile
		return c, nil
	}
	toks, err := a.cfg.HTTP.AllTokens()
	if err != nil {
		return nil, fmt.Errorf("http: %w", err)
	}
	if len(toks) > 0 {
		c.token, c.source = toks[0].Reveal(), "the configuration (http.tokens, http.tokens_file)"
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
	return c.doAccepting(ctx, method, path, contentType, body, 0)
}

// doAccepting is do, also returning the response when its status is
// accept (an ingest answers 422 with its summary when it failed).
func (c *apiClient) doAccepting(ctx context.Context, method, path, contentType string, body io.Reader, accept int) (*http.Response, error) {
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
	if resp.StatusCode/100 == 2 || resp.StatusCode == accept {
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

// remoteJSON posts in as JSON to path and decodes the answer into out (a
// 422 carries a result too: the run happened and failed).
func (a *app) remoteJSON(cmd interface{ Context() context.Context }, base, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	c, err := a.newAPIClient(base)
	if err != nil {
		return err
	}
	resp, err := c.doAccepting(cmd.Context(), http.MethodPost, path, "application/json", bytes.NewReader(body), http.StatusUnprocessableEntity)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(out)
}
