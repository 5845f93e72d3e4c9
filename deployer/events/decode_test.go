package events

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// receivedAt is the receive time the Argo CD samples fall back on.
var receivedAt = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

type decoded struct {
	Event    *Event    `json:"event,omitempty"`
	External *External `json:"external,omitempty"`
	Error    string    `json:"error,omitempty"`
}

// TestDecodeSamples decodes every sample under testdata/github and
// testdata/argocd (GitHub's deployment_status payloads as its webhook
// documentation describes them; Argo CD bodies rendered from
// ArgoCDTemplate and a hand-written template) and compares with the
// golden files beside them.
func TestDecodeSamples(t *testing.T) {
	for _, dir := range []string{"github", "argocd"} {
		files, err := filepath.Glob(filepath.Join("testdata", dir, "*.json"))
		require.NoError(t, err)
		require.NotEmpty(t, files)
		for _, f := range files {
			if strings.HasSuffix(f, ".golden.json") {
				continue
			}
			t.Run(f, func(t *testing.T) {
				body, err := os.ReadFile(f)
				require.NoError(t, err)
				var e Event
				var ext External
				if dir == "github" {
					e, ext, err = DecodeGitHub("deployment_status", body)
				} else {
					e, ext, err = DecodeArgoCD(body, receivedAt)
				}
				var got decoded
				if err != nil {
					got.Error = err.Error()
				} else {
					n, verr := e.Normalize()
					require.NoError(t, verr, "a decoded event is valid")
					got.Event, got.External = &n, &ext
				}
				out, err := json.MarshalIndent(got, "", "  ")
				require.NoError(t, err)
				golden := strings.TrimSuffix(f, ".json") + ".golden.json"
				if *update {
					require.NoError(t, os.WriteFile(golden, append(out, '\n'), 0o644))
				}
				want, err := os.ReadFile(golden)
				require.NoError(t, err, "run go test ./deployer/events -update")
				require.JSONEq(t, string(want), string(out))
			})
		}
	}
}

// TestDecodeGitHubIgnoresOtherEvents: other event types and an inactive
// status are ignored, not refused.
func TestDecodeGitHubIgnoresOtherEvents(t *testing.T) {
	body, err := os.ReadFile("testdata/github/success.json")
	require.NoError(t, err)
	for _, ev := range []string{"ping", "push", "deployment", ""} {
		_, _, err := DecodeGitHub(ev, body)
		require.ErrorIs(t, err, ErrIgnored, ev)
	}
	inactive, err := os.ReadFile("testdata/github/inactive.json")
	require.NoError(t, err)
	_, _, err = DecodeGitHub("deployment_status", inactive)
	require.ErrorIs(t, err, ErrIgnored)
}

// TestDecodeRejects: what each decoder refuses, and why.
func TestDecodeRejects(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{`[]`, "not a JSON object"},
		{`null`, "null"},
		{`{"phase": "Succeeded"}`, "no app"},
		{`{"app": "a", "namespace": "n", "phase": "Paused"}`, `phase "Paused"`},
		{`{"app": "a", "namespace": "n"}`, "cannot tell the result"},
		{`{"app": "a", "phase": "Succeeded"}`, "no environment"},
		{`{"app": "a", "namespace": "n", "phase": "Succeeded", "finishedAt": "yesterday"}`, "finishedat"},
		{`{"app": {"name": "a"}}`, "object or array"},
		{`{"app": "a", "namespace": "n", "phase": "Succeeded", "action": "delete"}`, `action "delete"`},
	} {
		_, _, err := DecodeArgoCD([]byte(c.body), receivedAt)
		require.ErrorIs(t, err, ErrMalformed, c.body)
		require.Contains(t, err.Error(), c.want, c.body)
	}
	for _, c := range []struct{ body, want string }{
		{`{`, "malformed"},
		{`{"deployment": {"id": 1}, "repository": {"full_name": "a/b"}}`, "no deployment_status"},
		{`{"deployment_status": {"id": 1, "state": "success"}, "repository": {"full_name": "a/b"}}`, "no deployment"},
		{`{"deployment_status": {"id": 1, "state": "success"}, "deployment": {"id": 2}}`, "no repository"},
		{`{"deployment_status": {"id": 1, "state": "done", "environment": "p", "created_at": "2026-01-01T00:00:00Z"}, "deployment": {"id": 2}, "repository": {"full_name": "a/b"}}`, `state "done"`},
		{`{"deployment_status": {"id": 1, "state": "success", "created_at": "2026-01-01T00:00:00Z"}, "deployment": {"id": 2}, "repository": {"full_name": "a/b"}}`, "no environment"},
		{`{"deployment_status": {"id": 1, "state": "success", "environment": "p"}, "deployment": {"id": 2}, "repository": {"full_name": "a/b"}}`, "no created_at"},
	} {
		_, _, err := DecodeGitHub("deployment_status", []byte(c.body))
		require.ErrorIs(t, err, ErrMalformed, c.body)
		require.Contains(t, err.Error(), c.want, c.body)
	}
}

// TestTemplateTimes: the time forms a template prints.
func TestTemplateTimes(t *testing.T) {
	want := time.Date(2026, 11, 30, 9, 58, 12, 0, time.UTC)
	for _, s := range []string{"2026-11-30T09:58:12Z", "2026-11-30T18:58:12+09:00", "2026-11-30 09:58:12 +0000 UTC",
		"2026-11-30 18:58:12 +0900 KST", "2026-11-30 09:58:12 +0000 UTC m=+0.000000001", "1796032692"} {
		got, err := parseTemplateTime(s)
		require.NoError(t, err, s)
		require.True(t, want.Equal(got), "%s: %s", s, got)
	}
	for _, s := range []string{"", "tomorrow", "2026-13-01T00:00:00Z", "-5", "NaN"} {
		_, err := parseTemplateTime(s)
		require.Error(t, err, s)
	}
}

// TestGitHubSignature: GitHub's HMAC, as its documentation's example
// computes it (secret "It's a Secret to Everybody", body "Hello, World!").
func TestGitHubSignature(t *testing.T) {
	const secret, body = "It's a Secret to Everybody", "Hello, World!"
	const sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	require.Empty(t, CheckGitHubSignature(secret, sig, []byte(body)))
	require.Contains(t, CheckGitHubSignature(secret, "", []byte(body)), "missing")
	require.Contains(t, CheckGitHubSignature(secret, "sha1=757107ea", []byte(body)), "sha256=")
	require.Contains(t, CheckGitHubSignature(secret, "sha256=zz", []byte(body)), "not hex")
	require.Contains(t, CheckGitHubSignature("other", sig, []byte(body)), "does not match")
	require.Contains(t, CheckGitHubSignature(secret, sig, []byte(body+" ")), "does not match")
}
