package alerting

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"html"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// chromiumPath finds Debian's chromium (scripts/setup-chromium.sh installs
// it). Without it the test fails in CI (CI=true) or when
// FURROW_TEST_REQUIRE_CHROMIUM=1, and is skipped elsewhere.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "chromium is not installed: run `make setup-chromium` (scripts/setup-chromium.sh, Debian's chromium package)"
	if os.Getenv("CI") == "true" || os.Getenv("FURROW_TEST_REQUIRE_CHROMIUM") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// artifactPath is where a test leaves a file for people to look at:
// $FURROW_TEST_ARTIFACTS when set, else the test's temporary directory.
func artifactPath(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("FURROW_TEST_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return filepath.Join(dir, name)
}

// TestPageChromium serves the /alerts page from a real furrow API server
// on 127.0.0.1, fed the shared webhook payloads through its routes, and
// drives headless Chromium with a writer's basic credentials: the page
// shows the namespaces, owners and alert names, runs no script from a
// hostile label, snoozes a group from its button (recorded in the outbox
// as the token's subject), and refuses the same form sent from another
// site. The full page is saved as alerts-page.png (see artifactPath).
func TestPageChromium(t *testing.T) {
	chrome := chromiumPath(t)
	h := newPageHarness(t, pageOptions{})
	ctx := context.Background()
	require.NoError(t, h.srv.Start(ctx))
	t.Cleanup(func() { _ = h.srv.Stop(context.Background()) })
	base := "http://" + h.srv.Addr()

	client := &http.Client{Timeout: 30 * time.Second}
	whs := h.feed(sharedWebhooks(t), func(path string, body []byte) (int, string) {
		req, err := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+pageIngestToken)
		resp, err := client.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	})
	h.c.Deliver(ctx) // to the local Slack API: the groups get their message links
	cur, err := h.c.Outbox().Current(ctx, h.clock())
	require.NoError(t, err)
	var key string
	for _, g := range cur {
		if g.Namespace == "whatever/promstack" {
			key = g.Key
		}
	}
	require.NotEmpty(t, key)

	// Another site, as a browser sees it: localhost is not 127.0.0.1.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!DOCTYPE html><html><body><form method="post" action="%s/alerts/unsnooze">
<input type="hidden" name="group_key" value="%s"><button id="go" type="submit">win a prize</button></form></body></html>`,
			html.EscapeString(base), html.EscapeString(key))
	}))
	t.Cleanup(evil.Close)
	evilURL := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.NoSandbox, // root, in a container
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
		chromedp.Flag("disable-dev-shm-usage", true),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser) // stops chromium
	bctx, cancelTimeout := context.WithTimeout(bctx, 90*time.Second)
	t.Cleanup(cancelTimeout)

	// The browser has the writer's basic credentials, as after the login
	// prompt: it sends them on every request, another site's included.
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(pageWriter+":"+pageWriterToken))
	require.NoError(t, chromedp.Do(bctx)) // starts chromium
	_, err = chromedp.Call(bctx, network.Enable, network.EnableParams{})
	require.NoError(t, err)
	_, err = chromedp.Call(bctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Authorization": auth}})
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(bctx, chromedp.Navigate(base+"/alerts"), chromedp.WaitVisible(chromedp.CSS(`#history-table`))))
	text := run(t, bctx, chromedp.Text(chromedp.CSS(`body`)))
	pwned := run(t, bctx, chromedp.Evaluate[string](`typeof window.pwned`))
	injected := run(t, bctx, chromedp.Evaluate[int](`document.querySelectorAll('script, #owner-injected, img').length`))
	for _, want := range []string{"Alerts", "signed in as alice", "Namespace whatever/promstack", "Namespace (no namespace)", "JustATestAlert_1",
		"NodeEvent", "high_memory_load", "Platform", "@jdoe", "unowned",
		"Namespace " + hostileNamespace, hostileAlertName, `<b id="owner-injected">Evil</b>`, "Last 24 h per namespace", "Noisiest"} {
		require.Contains(t, text, want)
	}
	require.Equal(t, "undefined", pwned, "a label's script ran")
	require.Zero(t, injected, "a label became an element")
	links := run(t, bctx, chromedp.Evaluate[int](`document.querySelectorAll('tr.group a[href^="https://slack.com/archives/"]').length`))
	require.Equal(t, len(cur), links, "a Slack link per current group")
	for _, s := range wantSummary(t, whs, pageNoisiest) {
		sel := fmt.Sprintf(`#history-table tr[data-namespace=%q] `, s.Namespace)
		fired := run(t, bctx, chromedp.Text(chromedp.CSS(sel+".n-fired")))
		resolved := run(t, bctx, chromedp.Text(chromedp.CSS(sel+".n-resolved")))
		still := run(t, bctx, chromedp.Text(chromedp.CSS(sel+".n-still-firing")))
		require.Equal(t, fmt.Sprintln(s.Fired, s.Resolved, s.StillFiring), fmt.Sprintln(fired, resolved, still), s.Namespace)
	}

	// Snooze the promstack group for 1h with its button.
	row := fmt.Sprintf(`tr[data-group=%q]`, key)
	require.NoError(t, chromedp.Do(bctx,
		chromedp.Click(chromedp.CSS(row+` button[value="1h"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#flash`)),
		chromedp.WaitVisible(chromedp.CSS(row+` button.unsnooze`))))
	location := run(t, bctx, chromedp.Location())
	rowStatus := run(t, bctx, chromedp.AttributeValue(chromedp.CSS(row), "data-status")).Value
	snoozeState := run(t, bctx, chromedp.Text(chromedp.CSS(row+` .snooze-state`)))
	require.Equal(t, base+"/alerts?done=snoozed#g-"+key, location)
	require.Equal(t, "snoozed", rowStatus)
	require.Equal(t, "until "+h.clock().Add(time.Hour).Format("2006-01-02 15:04 UTC")+", by alice", strings.TrimSpace(snoozeState))
	g, err := h.c.Outbox().Group(ctx, key)
	require.NoError(t, err)
	require.Equal(t, pageWriter, g.SnoozedBy)
	require.True(t, g.SnoozedUntil.Equal(h.clock().Add(time.Hour)), g.SnoozedUntil)

	shot := run(t, bctx, chromedp.FullScreenshot(100))
	img, err := png.Decode(bytes.NewReader(shot))
	require.NoError(t, err, "a full-page screenshot at quality 100 is a PNG")
	require.GreaterOrEqual(t, img.Bounds().Dy(), 1000, "the full page, not just the window")
	path := artifactPath(t, "alerts-page.png")
	require.NoError(t, os.WriteFile(path, shot, 0o644))
	t.Logf("screenshot of /alerts: %s", path)

	// Another site's form, with the browser's credentials: refused, and
	// the group stays snoozed.
	require.NoError(t, chromedp.Do(bctx,
		chromedp.Navigate(evilURL),
		chromedp.Click(chromedp.ID("go")),
		chromedp.WaitNotPresent(chromedp.ID("go"))))
	refused := run(t, bctx, chromedp.Text(chromedp.CSS(`body`)))
	require.Contains(t, refused, "Refused")
	g, err = h.c.Outbox().Group(ctx, key)
	require.NoError(t, err)
	require.Equal(t, pageWriter, g.SnoozedBy, "a cross-site form unsnoozed the group")
	require.False(t, g.SnoozedUntil.IsZero())
}

// run runs one chromedp action and returns its value.
func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	require.NoError(t, err)
	return v
}
