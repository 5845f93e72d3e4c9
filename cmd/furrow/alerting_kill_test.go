package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/internal/testenv/slackapi"
)

// TestAlertDeliverySIGKILL kills `furrow serve` with SIGKILL while its
// delivery worker waits for Slack's answer to a post that Slack has made
// (the local Slack Web API server holds the answer: the worst moment, the
// message is in the channel and furrow does not know it), then starts it
// again on the same data: every namespace's message is in the channel
// exactly once, the resolve updates and threads under the message the
// killed process posted, and nothing is delivered twice.
//
// Slack itself cannot run here: internal/testenv/slackapi speaks its Web
// API wire format and the real slack-go client in furrow talks to it.
func TestAlertDeliverySIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts furrow serve twice")
	}
	const token, bearer = "xoxb-kill-test-9Tq2", "am-kill-bearer-7Wp4"
	slack := slackapi.New(t, token)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfg := filepath.Join(dir, "furrow.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(`http:
  listen: 127.0.0.1:0
  dev_mode: true
alerting:
  enabled: true
  default_channel: "#alerts"
  delivery_interval: 100ms
  claim_lease: 3s
  report_interval: 0s
  slack:
    api_url: %s
    token: %s
    timeout: 2s
  sources:
    alertmanager:
      bearer_token: %s
`, slack.URL(), token, bearer)), 0o600))

	namespaces := []string{"payments", "checkout", "search"}
	payload := func(status string) []byte {
		var alerts []string
		for _, ns := range namespaces {
			alerts = append(alerts, fmt.Sprintf(`{"status":%q,"labels":{"alertname":"HighErrorRate","namespace":%q,"severity":"critical"},"annotations":{"summary":"errors in %s"},"startsAt":"2026-12-07T09:00:00Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":"fp-%s"}`, status, ns, ns, ns))
		}
		return []byte(fmt.Sprintf(`{"version":"4","receiver":"furrow","status":%q,"groupKey":"{}:{alertname=\"HighErrorRate\"}","alerts":[%s]}`, status, strings.Join(alerts, ",")))
	}
	send := func(addr string, body []byte) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/api/v1/alerts/alertmanager", bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+bearer)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusAccepted, resp.StatusCode, string(b))
	}
	calls := func(method string, thread bool) (out []slackapi.Call) {
		for _, c := range slack.Calls() {
			if c.Method == method && c.Answer == "ok" && (c.ThreadTS != "") == thread {
				out = append(out, c)
			}
		}
		return out
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(time.Minute) // only keeps a hang from hanging the run
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("waiting for %s; Slack saw %d calls", what, len(slack.Calls()))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	// First run: the first post is made and never answered; kill -9.
	slack.HoldPosts(1)
	srv, addr := startServe(t, data, cfg)
	send(addr, payload("firing"))
	var held slackapi.Call
	select {
	case held = <-slack.Held():
	case <-time.After(time.Minute):
		t.Fatal("no post reached Slack")
	}
	require.NoError(t, srv.Process.Signal(syscall.SIGKILL))
	_ = srv.Wait()
	slack.Release()

	// Second run: each namespace's message once.
	srv, addr = startServe(t, data, cfg)
	waitFor("a message per namespace", func() bool { return len(calls("chat.postMessage", false)) >= len(namespaces) })
	send(addr, payload("resolved"))
	waitFor("the resolves", func() bool {
		return len(calls("chat.update", false)) >= len(namespaces) && len(calls("chat.postMessage", true)) >= len(namespaces)
	})
	time.Sleep(time.Second) // what would come twice has had its chance
	require.NoError(t, srv.Process.Signal(syscall.SIGTERM))
	_ = srv.Wait()

	posts := calls("chat.postMessage", false)
	var texts []string
	for _, p := range posts {
		texts = append(texts, p.Text)
	}
	require.Equal(t, len(namespaces), len(posts), "each message posted once: %q", texts)
	byNS := map[string]string{} // namespace → ts
	for _, p := range posts {
		for _, ns := range namespaces {
			if strings.Contains(p.Text, ns) {
				require.NotContains(t, byNS, ns, "%s posted twice", ns)
				byNS[ns] = p.Posted
			}
		}
	}
	require.Len(t, byNS, len(namespaces))
	require.Contains(t, []string{byNS["payments"], byNS["checkout"], byNS["search"]}, held.Posted, "the killed process's post is one of them")
	updates := calls("chat.update", false)
	require.Len(t, updates, len(namespaces), "each message updated once")
	replies := calls("chat.postMessage", true)
	require.Len(t, replies, len(namespaces), "one thread reply each")
	updated := map[string]bool{}
	for _, u := range updates {
		updated[u.TS] = true
	}
	for _, r := range replies {
		require.True(t, updated[r.ThreadTS], "reply under an updated message")
	}
	for _, ts := range byNS {
		require.True(t, updated[ts], "message %s updated", ts)
	}
}

// startServe starts `furrow serve` and returns it with its address, once
// it says it serves.
func startServe(t *testing.T, data, cfg string) (*exec.Cmd, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv := furrowCmd(ctx, nil, "--data", data, "--config", cfg, "serve")
	srv.Cancel = func() error { return srv.Process.Signal(syscall.SIGTERM) }
	srv.WaitDelay = time.Minute
	out, err := srv.StdoutPipe()
	require.NoError(t, err)
	var stderr bytes.Buffer
	srv.Stderr = &stderr
	require.NoError(t, srv.Start())
	t.Cleanup(func() { cancel(); _ = srv.Wait() })
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if _, rest, ok := strings.Cut(sc.Text(), "serving on http://"); ok {
			go func() { _, _ = io.Copy(io.Discard, out) }()
			return srv, strings.Fields(rest)[0]
		}
	}
	t.Fatalf("furrow serve did not start: %s", stderr.String())
	return nil, ""
}
