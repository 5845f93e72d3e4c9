package alerting

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/furrowdev/furrow/config"
	"github.com/furrowdev/furrow/internal/testenv/slackapi"
)

const slackTestToken = "xoxb-1234567890-secret-token-value"

func newTestSlack(t *testing.T, srv *slackapi.Server, token string) *Slack {
	t.Helper()
	cfg := DefaultSlackConfiguration()
	cfg.APIURL = srv.URL()
	cfg.Timeout = 5 * time.Second
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return NewSlack(cfg, config.Secret(token))
}

// TestSlackDelivery posts a firing group, resolves it by updating the same
// message and replies in its thread, through the real slack-go client.
func TestSlackDelivery(t *testing.T) {
	srv := slackapi.New(t, slackTestToken)
	s := newTestSlack(t, srv, slackTestToken)
	ctx := context.Background()

	g := Group{Key: "grafana/slack/payments/Ingress5xx", Namespace: "payments", AlertName: "Ingress5xx", Status: StatusFiring,
		Alerts: []Alert{renderAlert("gw-1", "503", "UC", 1250, StatusFiring)}}
	d := Decision{Channels: []string{"#payments-alerts"}, Mentions: []string{"<!subteam^S0PAY>"}}
	firing := Render(g, renderOwner, d, DefaultRenderOptions())
	channelID, ts, err := s.PostTo(ctx, "#payments-alerts", firing, Text(g, renderOwner, d))
	if err != nil {
		t.Fatal(err)
	}
	if channelID != srv.ChannelID("payments-alerts") || ts == "" {
		t.Fatalf("posted to %q at %q", channelID, ts)
	}

	g.Status, g.Alerts = StatusResolved, []Alert{renderAlert("gw-1", "503", "UC", 0, StatusResolved)}
	resolved := Render(g, renderOwner, d, DefaultRenderOptions())
	if err := s.Update(ctx, channelID, ts, resolved, Text(g, renderOwner, d)); err != nil {
		t.Fatal(err)
	}
	if err := s.Reply(ctx, channelID, ts, "Resolved."); err != nil {
		t.Fatal(err)
	}
	ts2, err := s.Post(ctx, channelID, firing, "again")
	if err != nil || ts2 == ts {
		t.Fatalf("second post: ts %q (first %q), %v", ts2, ts, err)
	}

	calls := srv.Calls()
	if len(calls) != 4 {
		t.Fatalf("%d calls, want 4: %+v", len(calls), calls)
	}
	post, update, reply := calls[0], calls[1], calls[2]
	if post.Method != "chat.postMessage" || post.Channel != "#payments-alerts" || !strings.Contains(post.Text, "<!subteam^S0PAY>") {
		t.Errorf("post: %+v", post)
	}
	// The blocks on the wire are the rendered ones.
	want, _ := json.Marshal(firing)
	if string(post.Blocks) != string(want) {
		t.Errorf("posted blocks differ from Render's:\n got %s\nwant %s", post.Blocks, want)
	}
	if update.Method != "chat.update" || update.TS != ts || update.Channel != channelID || !strings.Contains(string(update.Blocks), "RESOLVED") {
		t.Errorf("update: %+v", update)
	}
	if reply.Method != "chat.postMessage" || reply.ThreadTS != ts || reply.Text != "Resolved." || reply.Blocks != nil {
		t.Errorf("reply: %+v", reply)
	}
	if id, err := s.AuthTest(ctx); err != nil || id != "U0BOT" {
		t.Errorf("auth.test: %q, %v", id, err)
	}
}

func TestSlackErrorsRetryable(t *testing.T) {
	srv := slackapi.New(t, slackTestToken)
	s := newTestSlack(t, srv, slackTestToken)
	ctx := context.Background()
	blocks := []slack.Block{slack.NewDividerBlock()}

	// 429 with Retry-After: retried after what Slack says, then the
	// message goes through.
	srv.RateLimit(2, 30)
	for i := 0; i < 2; i++ {
		_, err := s.Post(ctx, "#alerts", blocks, "x")
		retry, after := Retryable(err)
		if !retry || after != 30*time.Second {
			t.Fatalf("429 #%d: Retryable = %v, %s (%v)", i, retry, after, err)
		}
	}
	if _, err := s.Post(ctx, "#alerts", blocks, "x"); err != nil {
		t.Fatalf("after the rate limit: %v", err)
	}

	// ok:false errors are not retried, and carry Slack's code.
	for _, code := range []string{"channel_not_found", "invalid_auth", "invalid_blocks", "not_in_channel"} {
		srv.FailNext(code)
		_, err := s.Post(ctx, "#alerts", blocks, "x")
		var se *SlackError
		if !errors.As(err, &se) || se.Code != code {
			t.Fatalf("%s: got %v", code, err)
		}
		if retry, _ := Retryable(err); retry {
			t.Errorf("%s is retried", code)
		}
	}
	srv.FailNext("internal_error")
	_, err := s.Post(ctx, "#alerts", blocks, "x")
	if retry, _ := Retryable(err); !retry {
		t.Errorf("internal_error is not retried: %v", err)
	}

	// A wrong token is refused and not retried.
	bad := newTestSlack(t, srv, "xoxb-wrong")
	_, err = bad.Post(ctx, "#alerts", blocks, "x")
	if retry, _ := Retryable(err); retry || err == nil {
		t.Errorf("invalid token: %v, retry %v", err, retry)
	}

	// chat.update of a message that does not exist.
	err = s.Update(ctx, srv.ChannelID("alerts"), "1.000001", blocks, "x")
	if retry, _ := Retryable(err); retry || err == nil || !strings.Contains(err.Error(), "message_not_found") {
		t.Errorf("update of unknown ts: %v", err)
	}
}

// TestSlackHTTPStatus checks how statuses other than 200 and network
// failures are classified, against a server answering them.
func TestSlackHTTPStatus(t *testing.T) {
	cases := []struct {
		status     int
		retryAfter string
		retry      bool
		after      time.Duration
	}{
		{http.StatusTooManyRequests, "7", true, 7 * time.Second},
		{http.StatusTooManyRequests, "", true, time.Second},
		{http.StatusInternalServerError, "", true, 0},
		{http.StatusBadGateway, "", true, 0},
		{http.StatusServiceUnavailable, "", true, 0},
		{http.StatusBadRequest, "", false, 0},
		{http.StatusUnauthorized, "", false, 0},
		{http.StatusForbidden, "", false, 0},
		{http.StatusNotFound, "", false, 0},
		{http.StatusGone, "", false, 0},
	}
	for _, c := range cases {
		t.Run(http.StatusText(c.status), func(t *testing.T) {
			h := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if c.retryAfter != "" {
					w.Header().Set("Retry-After", c.retryAfter)
				}
				w.WriteHeader(c.status)
				_, _ = w.Write([]byte("<html>error " + r.URL.String() + "</html>"))
			}))
			defer h.Close()
			s := NewSlack(SlackConfiguration{APIURL: h.URL + "/api"}, slackTestToken)
			_, err := s.Post(context.Background(), "#alerts", nil, "x")
			if err == nil {
				t.Fatal("no error")
			}
			retry, after := Retryable(err)
			if retry != c.retry || after != c.after {
				t.Errorf("Retryable = %v, %s; want %v, %s (%v)", retry, after, c.retry, c.after, err)
			}
		})
	}

	t.Run("connection refused", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		s := NewSlack(SlackConfiguration{APIURL: "http://" + addr + "/api/"}, slackTestToken)
		_, err = s.Post(context.Background(), "#alerts", nil, "x")
		if retry, after := Retryable(err); !retry || after != 0 {
			t.Errorf("Retryable = %v, %s (%v)", retry, after, err)
		}
	})

	t.Run("cancelled", func(t *testing.T) {
		srv := slackapi.New(t, slackTestToken)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := newTestSlack(t, srv, slackTestToken).Post(ctx, "#alerts", nil, "x")
		if retry, _ := Retryable(err); retry || !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled: retry %v, %v", retry, err)
		}
	})
}

// TestSlackTokenNotInErrors provokes every kind of failure with the token
// placed where a careless error would print it (in the API URL's path and
// query, echoed back in bodies and error codes) and checks no error
// message holds it.
func TestSlackTokenNotInErrors(t *testing.T) {
	h := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		tok := r.Form.Get("token")
		switch {
		case strings.Contains(r.URL.Path, "/status/"):
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte("forbidden for " + tok))
		case strings.Contains(r.URL.Path, "/echo/"):
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"ok":false,"error":"invalid_auth ` + tok + `"}`))
		default:
			_, _ = w.Write([]byte("not json " + tok))
		}
	}))
	defer h.Close()
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := l.Addr().String()
	l.Close()

	urls := []string{
		h.URL + "/status/" + slackTestToken + "/",
		h.URL + "/echo/" + slackTestToken + "/",
		h.URL + "/garbage/" + slackTestToken + "/",
		"http://" + dead + "/" + slackTestToken + "/",
		"http://" + dead + "/api/?token=" + slackTestToken + "&x=",
	}
	for _, u := range urls {
		s := NewSlack(SlackConfiguration{APIURL: u}, slackTestToken)
		ctx := context.Background()
		var errs []error
		_, err := s.Post(ctx, "#alerts", []slack.Block{slack.NewDividerBlock()}, "x")
		errs = append(errs, err)
		errs = append(errs, s.Update(ctx, "C1", "1.1", nil, "x"))
		errs = append(errs, s.Reply(ctx, "C1", "1.1", "x"))
		_, err = s.AuthTest(ctx)
		errs = append(errs, err)
		for i, err := range errs {
			if err == nil {
				t.Fatalf("%s call %d: no error", u, i)
			}
			var se *SlackError
			if errors.As(err, &se) && strings.Contains(se.Code, slackTestToken) {
				t.Errorf("the token appears in an error code: %q", se.Code)
			}
			for e := err; e != nil; e = errors.Unwrap(e) {
				if strings.Contains(e.Error(), slackTestToken) {
					t.Errorf("the token appears in an error: %q", e.Error())
				}
			}
		}
	}
}

func TestSlackConfigurationValidate(t *testing.T) {
	cases := []struct {
		name string
		mod  func(*SlackConfiguration)
		ok   bool
	}{
		{"default", func(*SlackConfiguration) {}, true},
		{"local", func(c *SlackConfiguration) { c.APIURL = "http://127.0.0.1:8080/api/" }, true},
		{"no scheme", func(c *SlackConfiguration) { c.APIURL = "slack.com/api" }, false},
		{"ftp", func(c *SlackConfiguration) { c.APIURL = "ftp://slack.com/api/" }, false},
		{"two tokens", func(c *SlackConfiguration) { c.Token, c.TokenFile = "x", "/f" }, false},
		{"two secrets", func(c *SlackConfiguration) { c.SigningSecret, c.SigningSecretFile = "x", "/f" }, false},
		{"negative timeout", func(c *SlackConfiguration) { c.Timeout = -time.Second }, false},
	}
	for _, c := range cases {
		cfg := DefaultSlackConfiguration()
		c.mod(&cfg)
		if err := cfg.Validate(); (err == nil) != c.ok {
			t.Errorf("%s: Validate() = %v", c.name, err)
		}
	}
}

func TestSlackResolveSecrets(t *testing.T) {
	dir := t.TempDir()
	tf, sf := dir+"/token", dir+"/secret"
	if err := os.WriteFile(tf, []byte(slackTestToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sf, []byte(" signing \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tok, sec, err := SlackConfiguration{TokenFile: tf, SigningSecretFile: sf}.ResolveSecrets()
	if err != nil || tok.Reveal() != slackTestToken || sec.Reveal() != "signing" {
		t.Fatalf("got %q %q %v", tok.Reveal(), sec.Reveal(), err)
	}
	if _, _, err := (SlackConfiguration{TokenFile: dir + "/missing"}).ResolveSecrets(); err == nil {
		t.Fatal("missing token file accepted")
	}
}
