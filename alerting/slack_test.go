package alerting

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"
)

// The -update flag may be defined by another test file of the package;
// package variables are initialised before init runs, so look it up first.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files under testdata/")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// renderedMessage is what a golden file holds: the text fallback and the
// blocks as chat.postMessage sends them.
type renderedMessage struct {
	Text   string        `json:"text"`
	Blocks []slack.Block `json:"blocks"`
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if updateGolden() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./alerting -run Render -update)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from what Render gives now (go test ./alerting -run Render -update, then review the diff):\n%s", path, got)
	}
}

func renderJSON(t *testing.T, g Group, o Owner, d Decision, opts RenderOptions) []byte {
	t.Helper()
	blocks := Render(g, o, d, opts)
	checkLimits(t, blocks)
	return marshalGolden(t, renderedMessage{Text: Text(g, o, d), Blocks: blocks})
}

// marshalGolden indents, and leaves <, > and & as they are so that the
// golden files read like the mrkdwn Slack receives.
func marshalGolden(t *testing.T, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// checkLimits asserts Slack's Block Kit limits on a rendered message.
func checkLimits(t *testing.T, blocks []slack.Block) {
	t.Helper()
	if len(blocks) > slackMaxBlocks {
		t.Errorf("%d blocks, Slack takes at most %d", len(blocks), slackMaxBlocks)
	}
	for i, b := range blocks {
		switch b := b.(type) {
		case *slack.HeaderBlock:
			if n := utf8.RuneCountInString(b.Text.Text); n > slackMaxHeader {
				t.Errorf("block %d: header of %d characters", i, n)
			}
		case *slack.SectionBlock:
			if n := utf8.RuneCountInString(b.Text.Text); n > slackMaxSectionText {
				t.Errorf("block %d: section of %d characters", i, n)
			}
		case *slack.ActionBlock:
			for _, e := range b.Elements.ElementSet {
				if btn, ok := e.(*slack.ButtonBlockElement); ok && len(btn.Value) > slackMaxButtonValue {
					t.Errorf("block %d: button value of %d bytes", i, len(btn.Value))
				}
			}
		}
	}
}

var renderT0 = time.Date(2026, 12, 7, 13, 42, 0, 0, time.UTC)

func renderAlert(pod, code, flag string, v float64, status string) Alert {
	a := Alert{
		Status: status,
		Labels: map[string]string{
			"alertname": "Ingress5xx", "namespace": "payments", "severity": "critical",
			"pod": pod, "code": code, "response_flags": flag, "job": "envoy",
		},
		Annotations: map[string]string{
			"summary":     "5xx on the payments ingress",
			"description": "More than 10 5xx per second for 5 minutes.\nSee the runbook.",
			"runbook_url": "https://runbooks.example.com/ingress-5xx",
		},
		StartsAt:     renderT0,
		Fingerprint:  fmt.Sprintf("%016x", len(pod)*7919+int(v)),
		Values:       map[string]float64{"A": v, "B": 1},
		ValueString:  fmt.Sprintf("[ var='A' labels={pod=%s} value=%g ]", pod, v),
		GeneratorURL: "https://grafana.example.com/alerting/grafana/abc123/view",
		SilenceURL:   "https://grafana.example.com/alerting/silence/new?matcher=pod%3D" + pod,
		DashboardURL: "https://grafana.example.com/d/ingress",
		PanelURL:     "https://grafana.example.com/d/ingress?viewPanel=4",
	}
	if status == StatusResolved {
		a.EndsAt = renderT0.Add(25 * time.Minute)
	}
	return a
}

var renderOwner = Owner{
	Team: "team-payments", TeamName: "Payments", Project: "checkout", SlackChannel: "#payments-alerts",
	Oncall: "<@U0ONCALL>",
	Links: map[string]string{
		"dashboard": "https://grafana.example.com/d/svc?var-namespace=payments",
		"logs":      "https://grafana.example.com/d/logs?var-namespace=payments",
		"runbook":   "https://wiki.example.com/payments",
		"project":   "https://furrow.example.com/projects/checkout",
	},
}

func TestRenderGolden(t *testing.T) {
	many := Group{Key: "grafana/slack/payments/Ingress5xx", Source: SourceGrafana, Namespace: "payments", AlertName: "Ingress5xx", Status: StatusFiring}
	for i := 0; i < 60; i++ {
		many.Alerts = append(many.Alerts, renderAlert(fmt.Sprintf("gw-%02d", i), "503", "UC", float64(1000+i), StatusFiring))
	}
	long := strings.Repeat("very-long-namespace-", 10)
	cases := []struct {
		name  string
		group Group
		owner Owner
		dec   Decision
		opts  RenderOptions
	}{
		{
			name: "firing_grafana_owned_mentions",
			group: Group{Key: "grafana/slack/payments/Ingress5xx", Source: SourceGrafana, Namespace: "payments", AlertName: "Ingress5xx", Status: StatusFiring,
				Alerts: []Alert{renderAlert("gw-7d9f", "503", "UC", 1250, StatusFiring), renderAlert("gw-a1b2", "500", "-", 42.5, StatusFiring)}},
			owner: renderOwner,
			dec:   Decision{Channels: []string{"#payments-alerts"}, Mentions: []string{"<!subteam^S0PAY>", "<!subteam^S0SRE>"}},
			opts:  DefaultRenderOptions(),
		},
		{
			name: "resolved_grafana",
			group: Group{Key: "grafana/slack/payments/Ingress5xx", Source: SourceGrafana, Namespace: "payments", AlertName: "Ingress5xx", Status: StatusResolved,
				Alerts: []Alert{renderAlert("gw-7d9f", "503", "UC", 0, StatusResolved)}},
			owner: renderOwner,
			dec:   Decision{Channels: []string{"#payments-alerts"}, Mentions: []string{"<!subteam^S0PAY>"}},
			opts:  DefaultRenderOptions(),
		},
		{
			name: "firing_alertmanager_unowned_custom_labels",
			group: Group{Key: "alertmanager/default/batch/KubeJobFailed", Source: SourceAlertmanager, Namespace: "batch", AlertName: "KubeJobFailed", Status: StatusFiring,
				Alerts: []Alert{
					{Status: StatusFiring, StartsAt: renderT0, Fingerprint: "b1",
						Labels:       map[string]string{"alertname": "KubeJobFailed", "namespace": "batch", "job_name": "nightly-<export>", "severity": "warning", "container": "kube-state-metrics"},
						Annotations:  map[string]string{"summary": "Job batch/nightly-export failed to complete.", "value": "1"},
						GeneratorURL: "http://prometheus:9090/graph?g0.expr=kube_job_failed+%3E+0"},
					{Status: StatusResolved, StartsAt: renderT0.Add(-time.Hour), EndsAt: renderT0, Fingerprint: "a0",
						Labels:      map[string]string{"alertname": "KubeJobFailed", "namespace": "batch", "job_name": "hourly-sync", "severity": "warning"},
						Annotations: map[string]string{"summary": "Job batch/hourly-sync failed to complete."}},
				}},
			dec:  Decision{Channels: []string{"#alerts"}},
			opts: RenderOptions{Labels: map[string][]string{"KubeJobFailed": {"job_name", "severity"}}},
		},
		{
			name: "no_namespace_no_name",
			group: Group{Key: "alertmanager/default//", Source: SourceAlertmanager, Status: StatusFiring,
				Alerts: []Alert{{Status: StatusFiring, StartsAt: renderT0, Fingerprint: "c", Labels: map[string]string{"instance": "10.0.0.1:9100"}}}},
			dec:  Decision{Channels: []string{"#alerts"}},
			opts: DefaultRenderOptions(),
		},
		{
			name:  "truncated_60_alerts",
			group: many,
			owner: renderOwner,
			dec:   Decision{Channels: []string{"#payments-alerts"}},
			opts:  RenderOptions{MaxAlerts: 3},
		},
		{
			name: "long_header",
			group: Group{Key: "k", Source: SourceGrafana, Namespace: long, AlertName: "Ingress5xx", Status: StatusFiring,
				Alerts: []Alert{{Status: StatusFiring, StartsAt: renderT0, Fingerprint: "d", Annotations: map[string]string{"value": strings.Repeat("9", 5000)}}}},
			dec:  Decision{Channels: []string{"#alerts"}},
			opts: DefaultRenderOptions(),
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := renderJSON(t, c.group, c.owner, c.dec, c.opts)
			checkGolden(t, filepath.Join("testdata", "blocks", c.name+".json"), got)
		})
	}
}

// TestRenderLimits renders groups of every size without options and checks
// Slack's limits and the "and N more" arithmetic.
func TestRenderLimits(t *testing.T) {
	for _, n := range []int{0, 1, 44, 45, 46, 47, 100, 1000} {
		g := Group{Key: "k", Namespace: "ns", AlertName: "A", Status: StatusFiring}
		for i := 0; i < n; i++ {
			g.Alerts = append(g.Alerts, renderAlert(fmt.Sprintf("p%d", i), "500", "-", float64(i), StatusFiring))
		}
		blocks := Render(g, renderOwner, Decision{Mentions: []string{"<!here>"}}, RenderOptions{})
		checkLimits(t, blocks)
		sections := 0
		more := 0
		for _, b := range blocks {
			if s, ok := b.(*slack.SectionBlock); ok && strings.HasPrefix(s.Text.Text, "🔥") {
				sections++
			}
			if c, ok := b.(*slack.ContextBlock); ok && c.BlockID == "more" {
				if _, err := fmt.Sscanf(c.ContextElements.Elements[0].(*slack.TextBlockObject).Text, "… and %d more alerts", &more); err != nil {
					t.Fatal(err)
				}
			}
		}
		if sections+more != n {
			t.Errorf("%d alerts: %d shown + %d more", n, sections, more)
		}
	}
}

func TestRenderEscapesSenderText(t *testing.T) {
	g := Group{Key: "k", Namespace: "ns<!channel>", AlertName: "A", Status: StatusFiring, Alerts: []Alert{{
		Status: StatusFiring, Labels: map[string]string{"pod": "<!channel>", "severity": "a&b"},
		Annotations: map[string]string{"summary": "<@U1> <https://evil|click>"},
	}}}
	b, err := json.Marshal(Render(g, Owner{}, Decision{}, DefaultRenderOptions()))
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<!channel>", "<@U1>", "<https://evil"} {
		// The header is plain text (Slack does not read mentions there);
		// every mrkdwn field must escape them.
		if strings.Count(string(b), bad) > 1 || (bad != "<!channel>" && strings.Contains(string(b), bad)) {
			t.Errorf("%q reaches the message unescaped: %s", bad, b)
		}
	}
}

// TestRenderSharedPayloads renders every shared real payload, decoded and
// split, one golden file per payload.
func TestRenderSharedPayloads(t *testing.T) {
	files, _ := filepath.Glob("../../shared/testdata/alerts/*.json")
	if len(files) == 0 {
		files, _ = filepath.Glob("/work/shared/testdata/alerts/*.json")
	}
	if len(files) == 0 {
		t.Skip("no shared payloads in ../shared/testdata/alerts")
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var dec func([]byte) (Notification, error) = DecodeAlertmanager
			if strings.Contains(name, "grafana") {
				dec = DecodeGrafana
			}
			n, err := dec(body)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			var msgs []renderedMessage
			for _, g := range Split(n, nil) {
				blocks := Render(g, Owner{}, Decision{}, DefaultRenderOptions())
				checkLimits(t, blocks)
				msgs = append(msgs, renderedMessage{Text: Text(g, Owner{}, Decision{}), Blocks: blocks})
			}
			checkGolden(t, filepath.Join("testdata", "blocks", "shared", name+".json"), marshalGolden(t, msgs))
		})
	}
}

func TestRenderResolvedReply(t *testing.T) {
	cases := []struct {
		alerts []Alert
		want   string
	}{
		{[]Alert{renderAlert("a", "503", "UC", 0, StatusResolved)}, "✅ Resolved after 25m0s (1 alert)."},
		{[]Alert{
			{Status: StatusResolved, StartsAt: renderT0.Add(-time.Hour), EndsAt: renderT0},
			{Status: StatusResolved, StartsAt: renderT0, EndsAt: renderT0.Add(90 * time.Second)},
		}, "✅ Resolved after 1h1m30s (2 alerts)."},
		{[]Alert{{Status: StatusResolved}}, "✅ Resolved (1 alert)."},
	}
	for _, c := range cases {
		if got := ResolvedReply(Group{Status: StatusResolved, Alerts: c.alerts}); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}
