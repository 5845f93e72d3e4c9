package demo

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/furrowdev/furrow/alerting"
)

// TestSlackStandIn drives the stand-in with alerting's own Slack client:
// a post, its update and a thread reply each print one line, the update
// and the reply find the post's channel by the id it was given; a call
// without a token is refused as Slack refuses it.
func TestSlackStandIn(t *testing.T) {
	var out bytes.Buffer
	srv := httptest.NewServer(NewSlackStandIn(&out))
	defer srv.Close()
	cfg := alerting.DefaultSlackConfiguration()
	cfg.APIURL = srv.URL + "/api/"
	ctx := context.Background()
	c := alerting.NewSlack(cfg, "xoxb-demo")
	id, ts, err := c.PostTo(ctx, "#team-payments", nil, "🔥 FIRING: payments · PaymentsErrorBudgetBurn\nsecond line")
	if err != nil {
		t.Fatal(err)
	}
	if id == "" || id == "#team-payments" || ts == "" {
		t.Fatalf("channel id %q, ts %q", id, ts)
	}
	if err := c.Update(ctx, id, ts, nil, "✅ RESOLVED: payments · PaymentsErrorBudgetBurn"); err != nil {
		t.Fatal(err)
	}
	if err := c.Reply(ctx, id, ts, "✅ Resolved after 25m0s (1 alert)."); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines:\n%s", len(lines), out.String())
	}
	for i, want := range []string{
		"post   #team-payments     ts=" + ts + "  🔥 FIRING: payments · PaymentsErrorBudgetBurn second line",
		"update #team-payments     ts=" + ts + "  ✅ RESOLVED",
		"reply  #team-payments",
	} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("line %d %q lacks %q", i, lines[i], want)
		}
	}
	if _, _, err := alerting.NewSlack(cfg, "").PostTo(ctx, "#alerts", nil, "x"); err == nil || !strings.Contains(err.Error(), "not_authed") {
		t.Errorf("no token: %v", err)
	}
}
