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

	"github.com/furrowdev/furrow/store/embedded"
)

// apiClient talks to a running `furrow serve`: commands whose data
// directory is held by a server hand their work to it instead of failing.
type apiClient struct {
	base  string
	token string
	http  *http.Client
}

// newAPIClient builds a client for base (http://host:port); the token comes
// from FURROW_TOKEN, else the first of http.tokens in the configuration.
func (a *app) newAPIClient(base string) *apiClient {
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	tok := os.Getenv("FURROW_TOKEN")
	if tok == "" && len(a.cfg.HTTP.Tokens) > 0 {
		tok = a.cfg.HTTP.Tokens[0].Reveal()
	}
	return &apiClient{base: strings.TrimRight(base, "/"), token: tok, http: &http.Client{Timeout: 0}}
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
	if json.Unmarshal(b, &e) == nil && e.Error != "" {
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
	resp, err := a.newAPIClient(base).doAccepting(cmd.Context(), http.MethodPost, path, "application/json", bytes.NewReader(body), http.StatusUnprocessableEntity)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(out)
}
