package slackapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

func post(t *testing.T, u, ctype, auth, body string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, resp.Header, m
}

func TestWireFormats(t *testing.T) {
	s := New(t, "xoxb-good")
	cases := []struct {
		name, method, ctype, auth, body string
		wantOK                          bool
		wantErr                         string
	}{
		{"form with token field", "chat.postMessage", "application/x-www-form-urlencoded", "",
			url.Values{"token": {"xoxb-good"}, "channel": {"#alerts"}, "text": {"hi"}}.Encode(), true, ""},
		{"JSON with bearer", "chat.postMessage", "application/json; charset=utf-8", "xoxb-good",
			`{"channel":"alerts","text":"hi","blocks":[{"type":"divider"}]}`, true, ""},
		{"wrong bearer", "chat.postMessage", "application/json", "xoxb-bad",
			`{"channel":"alerts","text":"hi"}`, false, "invalid_auth"},
		{"no token", "auth.test", "application/x-www-form-urlencoded", "", "", false, "invalid_auth"},
		{"no channel", "chat.postMessage", "application/json", "xoxb-good", `{"text":"hi"}`, false, "channel_not_found"},
		{"update of unknown ts", "chat.update", "application/json", "xoxb-good",
			`{"channel":"alerts","ts":"1.2","text":"x"}`, false, "message_not_found"},
		{"auth.test", "auth.test", "application/x-www-form-urlencoded", "xoxb-good", "", true, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, m := post(t, s.URL()+c.method, c.ctype, c.auth, c.body)
			if code != 200 {
				t.Fatalf("status %d", code)
			}
			if m["ok"] != c.wantOK || (c.wantErr != "" && m["error"] != c.wantErr) {
				t.Fatalf("answer %v, want ok=%v error=%q", m, c.wantOK, c.wantErr)
			}
		})
	}
	calls := s.Calls()
	if len(calls) != len(cases) {
		t.Fatalf("%d calls captured, want %d", len(calls), len(cases))
	}
	if string(calls[1].Blocks) != `[{"type":"divider"}]` || calls[1].Channel != "alerts" {
		t.Errorf("JSON call captured as %+v", calls[1])
	}
	if s.ChannelID("#alerts") != s.ChannelID("alerts") {
		t.Error("#alerts and alerts are different channels")
	}
}

func TestSlackGoClient(t *testing.T) {
	s := New(t, "xoxb-good")
	api := slack.New("xoxb-good", slack.OptionAPIURL(s.URL()))
	ctx := context.Background()

	ch, ts, err := api.PostMessageContext(ctx, "#alerts", slack.MsgOptionText("firing", false),
		slack.MsgOptionBlocks(slack.NewDividerBlock()))
	if err != nil {
		t.Fatal(err)
	}
	if ch != s.ChannelID("alerts") || ts == "" {
		t.Fatalf("post answered channel %q ts %q", ch, ts)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, ch, ts, slack.MsgOptionText("resolved", false)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := api.PostMessageContext(ctx, ch, slack.MsgOptionText("resolved", false), slack.MsgOptionTS(ts)); err != nil {
		t.Fatal(err)
	}
	calls := s.Calls()
	if len(calls) != 3 || calls[1].TS != ts || calls[2].ThreadTS != ts || calls[0].Blocks == nil {
		t.Fatalf("calls %+v", calls)
	}

	s.RateLimit(2, 7)
	for i := 0; i < 2; i++ {
		_, _, err = api.PostMessageContext(ctx, ch, slack.MsgOptionText("x", false))
		var rl *slack.RateLimitedError
		if !errors.As(err, &rl) || rl.RetryAfter != 7*time.Second {
			t.Fatalf("call %d: got %v, want a 7s rate limit", i, err)
		}
	}
	s.FailNext("channel_not_found")
	_, _, err = api.PostMessageContext(ctx, ch, slack.MsgOptionText("x", false))
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) || se.Err != "channel_not_found" {
		t.Fatalf("got %v, want channel_not_found", err)
	}
	if _, _, err = api.PostMessageContext(ctx, ch, slack.MsgOptionText("x", false)); err != nil {
		t.Fatalf("after the failures: %v", err)
	}
	if _, err := slack.New("xoxb-bad", slack.OptionAPIURL(s.URL())).AuthTestContext(ctx); err == nil || err.Error() != "invalid_auth" {
		t.Fatalf("bad token: %v", err)
	}
}

// TestHistoryRepliesAndHold reads back, through slack-go, the messages and
// their metadata that slack-go posted, and holds a post unanswered.
func TestHistoryRepliesAndHold(t *testing.T) {
	s := New(t, "xoxb-good")
	api := slack.New("xoxb-good", slack.OptionAPIURL(s.URL()))
	ctx := context.Background()
	meta := slack.SlackMetadata{EventType: "furrow_alert_delivery", EventPayload: map[string]any{"delivery_id": "d1"}}
	ch, ts1, err := api.PostMessageContext(ctx, "#ops", slack.MsgOptionText("first", false), slack.MsgOptionMetadata(meta))
	if err != nil {
		t.Fatal(err)
	}
	_, ts2, err := api.PostMessageContext(ctx, ch, slack.MsgOptionText("second", false))
	if err != nil {
		t.Fatal(err)
	}
	_, reply, err := api.PostMessageContext(ctx, ch, slack.MsgOptionText("in thread", false), slack.MsgOptionTS(ts1),
		slack.MsgOptionMetadata(slack.SlackMetadata{EventType: "furrow_alert_delivery", EventPayload: map[string]any{"delivery_id": "d2"}}))
	if err != nil {
		t.Fatal(err)
	}
	if !tsLess(ts1, ts2) || !tsLess(ts2, reply) {
		t.Fatalf("timestamps not increasing: %s %s %s", ts1, ts2, reply)
	}

	h, err := api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: ch, IncludeAllMetadata: true, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Messages) != 1 || h.Messages[0].Timestamp != ts2 || !h.HasMore {
		t.Fatalf("first page: want the newest top-level message and more, got %+v", h)
	}
	h, err = api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: ch, IncludeAllMetadata: true, Cursor: h.ResponseMetaData.NextCursor})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Messages) != 1 || h.Messages[0].Timestamp != ts1 || h.Messages[0].Metadata.EventPayload["delivery_id"] != "d1" {
		t.Fatalf("second page: want the first message with its metadata, got %+v", h.Messages)
	}
	h, err = api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: ch, Oldest: ts1})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Messages) != 1 || h.Messages[0].Timestamp != ts2 || h.Messages[0].Metadata.EventType != "" {
		t.Fatalf("oldest is exclusive and metadata only when asked: %+v", h.Messages)
	}
	msgs, _, _, err := api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{ChannelID: ch, Timestamp: ts1, IncludeAllMetadata: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || msgs[1].Timestamp != reply || msgs[1].Metadata.EventPayload["delivery_id"] != "d2" {
		t.Fatalf("replies: %+v", msgs)
	}
	if _, err := api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: "C99999999"}); err == nil || !strings.Contains(err.Error(), "channel_not_found") {
		t.Fatalf("unknown channel: %v", err)
	}
	chans, _, err := api.GetConversationsContext(ctx, &slack.GetConversationsParameters{})
	if err != nil || len(chans) != 1 || chans[0].Name != "ops" || chans[0].ID != ch {
		t.Fatalf("conversations.list: %+v %v", chans, err)
	}

	// A held post is in the channel, but its caller never hears back.
	s.HoldPosts(1)
	hctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, _, err := api.PostMessageContext(hctx, ch, slack.MsgOptionText("held", false)); err == nil {
		t.Fatal("a held post answered")
	}
	held := <-s.Held()
	if held.Text != "held" || held.Posted == "" {
		t.Fatalf("held: %+v", held)
	}
	h, err = api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: ch, Limit: 1})
	if err != nil || len(h.Messages) != 1 || h.Messages[0].Text != "held" {
		t.Fatalf("the held post is in the channel: %+v %v", h, err)
	}
}
