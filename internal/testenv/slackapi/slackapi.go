// Package slackapi is a local HTTP server speaking Slack's Web API wire
// format for chat.postMessage, chat.update, conversations.history,
// conversations.replies, conversations.list and auth.test. It stands in for
// Slack, which cannot run here: the real slack-go client is pointed at it
// (slack.OptionAPIURL(srv.URL())) and tested end to end, so what goes over
// the wire (form or JSON bodies, the token, blocks JSON, thread_ts) is what
// Slack would receive. Every call is captured for assertions, and the
// server can be told to answer 429 with Retry-After, or ok:false with an
// error code, for the next calls.
package slackapi

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Call is one Web API request as the server received it.
type Call struct {
	Method   string // chat.postMessage, chat.update, auth.test
	Channel  string
	TS       string // chat.update's ts
	ThreadTS string
	Text     string
	Blocks   json.RawMessage // the blocks JSON as sent, nil if none
	// Answer is what the server answered: "ok", "429" or Slack's error.
	Answer string
	// Posted is the ts the server gave a successful chat.postMessage.
	Posted string
	// At is when the request arrived (before its body was read), for
	// delivery lags.
	At time.Time
	// Metadata is the message metadata JSON as sent, nil if none.
	Metadata json.RawMessage
}

// message is a posted message as the server keeps it for the history.
type message struct {
	channelID, ts, threadTS, text string
	metadata                      json.RawMessage
}

// Server is the fake Slack Web API.
type Server struct {
	srv   *httptest.Server
	token string

	mu       sync.Mutex
	calls    []Call
	next     int64 // last ts sequence
	limited  int   // how many next calls get 429
	after    int   // their Retry-After, seconds
	failures []string
	channels map[string]string // name → id
	postedIn map[string]string // ts of a successful post → channel id
	messages []message         // every message posted, in order
	hold     int               // how many next posts are recorded, then not answered
	held     chan Call         // receives each held post
	release  chan struct{}     // closed by Release
}

// New starts a server on 127.0.0.1 accepting token, closed when t ends.
func New(t testing.TB, token string) *Server {
	t.Helper()
	s := &Server{token: token, channels: map[string]string{}, postedIn: map[string]string{},
		held: make(chan Call, 16), release: make(chan struct{})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("slackapi: listen: %v", err)
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.Listener.Close()
	s.srv.Listener = l
	s.srv.Start()
	t.Cleanup(func() {
		s.Release()
		s.srv.Close()
	})
	return s
}

// HoldPosts makes the next k chat.postMessage calls post their message
// (it is in the channel, as for Slack) and then not answer until the
// client goes away or Release is called: the client cannot know whether
// its message was posted. Each such post is sent on Held.
func (s *Server) HoldPosts(k int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold = k
}

// Held receives each post HoldPosts held, once it is in the channel.
func (s *Server) Held() <-chan Call { return s.held }

// Release answers the held posts and stops holding.
func (s *Server) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold = 0
	select {
	case <-s.release:
	default:
		close(s.release)
	}
}

// URL is the API base URL to give slack.OptionAPIURL (ends with "/").
func (s *Server) URL() string { return s.srv.URL + "/api/" }

// RateLimit makes the next k calls answer 429 with Retry-After seconds.
func (s *Server) RateLimit(k, seconds int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limited, s.after = k, seconds
}

// FailNext makes the next call answer {"ok":false,"error":code}; calls
// queue one failure each.
func (s *Server) FailNext(code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, code)
}

// Calls returns a copy of every call so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// ChannelID is the id the server gives a channel name (Slack answers with
// ids, and chat.update wants one).
func (s *Server) ChannelID(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.channelID(name)
}

func (s *Server) channelID(name string) string {
	name = strings.TrimPrefix(name, "#")
	if strings.HasPrefix(name, "C") && strings.ToUpper(name) == name {
		return name
	}
	id, ok := s.channels[name]
	if !ok {
		id = fmt.Sprintf("C%08d", len(s.channels)+1)
		s.channels[name] = id
	}
	return id
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	method, ok := strings.CutPrefix(r.URL.Path, "/api/")
	if !ok || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	params, token, err := readParams(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c := Call{
		Method: method, Channel: params["channel"], TS: params["ts"],
		ThreadTS: params["thread_ts"], Text: params["text"], At: at,
	}
	if b := params["blocks"]; b != "" {
		c.Blocks = json.RawMessage(b)
	}
	if m := params["metadata"]; m != "" {
		c.Metadata = json.RawMessage(m)
	}

	s.mu.Lock()
	hold := false
	defer func() {
		s.mu.Unlock()
		if hold {
			// Posted, unanswered: until the client hangs up (or is
			// killed) or the test releases it.
			select {
			case <-r.Context().Done():
			case <-s.release:
			}
		}
	}()
	record := func(answer string) {
		c.Answer = answer
		s.calls = append(s.calls, c)
	}
	if s.limited > 0 {
		s.limited--
		record("429")
		w.Header().Set("Retry-After", strconv.Itoa(s.after))
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	if len(s.failures) > 0 {
		code := s.failures[0]
		s.failures = s.failures[1:]
		record(code)
		writeJSON(w, map[string]any{"ok": false, "error": code})
		return
	}
	if token != s.token {
		record("invalid_auth")
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	switch method {
	case "auth.test":
		record("ok")
		writeJSON(w, map[string]any{"ok": true, "url": s.srv.URL + "/", "team": "furrow", "user": "furrow-bot", "team_id": "T0001", "user_id": "U0BOT"})
	case "chat.postMessage":
		if c.Channel == "" {
			record("channel_not_found")
			writeJSON(w, map[string]any{"ok": false, "error": "channel_not_found"})
			return
		}
		if c.Text == "" && c.Blocks == nil {
			record("no_text")
			writeJSON(w, map[string]any{"ok": false, "error": "no_text"})
			return
		}
		ts := s.newTS()
		c.Posted = ts
		id := s.channelID(c.Channel)
		s.postedIn[ts] = id
		record("ok")
		s.messages = append(s.messages, message{channelID: id, ts: ts, threadTS: c.ThreadTS, text: c.Text, metadata: c.Metadata})
		if s.hold > 0 {
			s.hold--
			hold = true
			select {
			case s.held <- c:
			default:
			}
			return
		}
		writeJSON(w, map[string]any{"ok": true, "channel": id, "ts": ts, "message": s.messages[len(s.messages)-1].json(true)})
	case "conversations.history":
		s.history(w, params, record)
	case "conversations.replies":
		s.replies(w, params, record)
	case "conversations.list":
		record("ok")
		var list []map[string]any
		for name, id := range s.channels {
			list = append(list, map[string]any{"id": id, "name": name, "is_channel": true, "is_member": true})
		}
		sort.Slice(list, func(i, j int) bool { return list[i]["id"].(string) < list[j]["id"].(string) })
		writeJSON(w, map[string]any{"ok": true, "channels": list, "response_metadata": map[string]any{"next_cursor": ""}})
	case "chat.update":
		if !s.posted(s.channelID(c.Channel), c.TS) {
			record("message_not_found")
			writeJSON(w, map[string]any{"ok": false, "error": "message_not_found"})
			return
		}
		record("ok")
		writeJSON(w, map[string]any{"ok": true, "channel": s.channelID(c.Channel), "ts": c.TS, "text": c.Text})
	default:
		record("unknown_method")
		writeJSON(w, map[string]any{"ok": false, "error": "unknown_method"})
	}
}

// newTS is a message timestamp as Slack makes them: the epoch seconds and
// a six-digit sequence, unique and increasing in the server.
func (s *Server) newTS() string {
	now := time.Now().UnixMicro()
	if now <= s.next {
		now = s.next + 1
	}
	s.next = now
	return fmt.Sprintf("%d.%06d", now/1e6, now%1e6)
}

func (m message) json(withMetadata bool) map[string]any {
	out := map[string]any{"type": "message", "user": "U0BOT", "bot_id": "B0BOT", "text": m.text, "ts": m.ts}
	if m.threadTS != "" {
		out["thread_ts"] = m.threadTS
	}
	if withMetadata && m.metadata != nil {
		out["metadata"] = m.metadata
	}
	return out
}

// tsLess compares two Slack timestamps (seconds.micros, fixed width
// after the dot as Slack makes them).
func tsLess(a, b string) bool {
	fa, _ := strconv.ParseFloat(a, 64)
	fb, _ := strconv.ParseFloat(b, 64)
	if fa != fb {
		return fa < fb
	}
	return a < b
}

// page answers msgs (already in Slack's order) from the cursor, limit at
// a time (Slack's default 100, at most 1000).
func page(w http.ResponseWriter, params map[string]string, msgs []map[string]any) {
	limit, _ := strconv.Atoi(params["limit"])
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	start, _ := strconv.Atoi(params["cursor"])
	start = min(max(start, 0), len(msgs))
	end := min(start+limit, len(msgs))
	next := ""
	if end < len(msgs) {
		next = strconv.Itoa(end)
	}
	writeJSON(w, map[string]any{"ok": true, "messages": msgs[start:end], "has_more": next != "",
		"response_metadata": map[string]any{"next_cursor": next}})
}

// history answers conversations.history: the channel's messages outside
// threads (replies stay in their thread), newest first, between oldest and
// latest (exclusive unless inclusive=1), metadata when
// include_all_metadata=1.
func (s *Server) history(w http.ResponseWriter, params map[string]string, record func(string)) {
	id := params["channel"]
	if !s.knownChannel(id) {
		record("channel_not_found")
		writeJSON(w, map[string]any{"ok": false, "error": "channel_not_found"})
		return
	}
	record("ok")
	var out []map[string]any
	for i := len(s.messages) - 1; i >= 0; i-- {
		m := s.messages[i]
		if m.channelID != id || m.threadTS != "" || !inRange(m.ts, params) {
			continue
		}
		out = append(out, m.json(params["include_all_metadata"] == "1" || params["include_all_metadata"] == "true"))
	}
	page(w, params, out)
}

// replies answers conversations.replies: the thread's parent and its
// replies, oldest first.
func (s *Server) replies(w http.ResponseWriter, params map[string]string, record func(string)) {
	id, parent := params["channel"], params["ts"]
	if !s.knownChannel(id) {
		record("channel_not_found")
		writeJSON(w, map[string]any{"ok": false, "error": "channel_not_found"})
		return
	}
	var out []map[string]any
	found := false
	for _, m := range s.messages {
		if m.channelID != id || (m.ts != parent && m.threadTS != parent) {
			continue
		}
		found = found || m.ts == parent
		if m.ts == parent || inRange(m.ts, params) {
			out = append(out, m.json(params["include_all_metadata"] == "1" || params["include_all_metadata"] == "true"))
		}
	}
	if !found {
		record("thread_not_found")
		writeJSON(w, map[string]any{"ok": false, "error": "thread_not_found"})
		return
	}
	record("ok")
	page(w, params, out)
}

func (s *Server) knownChannel(id string) bool {
	for _, v := range s.channels {
		if v == id {
			return true
		}
	}
	return false
}

func inRange(ts string, params map[string]string) bool {
	incl := params["inclusive"] == "1" || params["inclusive"] == "true"
	if o := params["oldest"]; o != "" && (tsLess(ts, o) || (!incl && ts == o)) {
		return false
	}
	if l := params["latest"]; l != "" && (tsLess(l, ts) || (!incl && ts == l)) {
		return false
	}
	return true
}

// posted reports whether a successful chat.postMessage created ts in
// channel id.
func (s *Server) posted(id, ts string) bool {
	got, ok := s.postedIn[ts]
	return ok && got == id
}

// readParams reads a form or JSON body, as Slack accepts both, and the
// token from the Authorization header or the form's token field.
func readParams(r *http.Request) (map[string]string, string, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		return nil, "", err
	}
	token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	params := map[string]string{}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		var m map[string]json.RawMessage
		if len(body) > 0 {
			if err := json.Unmarshal(body, &m); err != nil {
				return nil, "", fmt.Errorf("invalid JSON body: %w", err)
			}
		}
		for k, v := range m {
			var s string
			if json.Unmarshal(v, &s) == nil {
				params[k] = s
			} else {
				params[k] = string(v) // blocks as an array
			}
		}
	default:
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, "", fmt.Errorf("invalid form body: %w", err)
		}
		for k := range form {
			params[k] = form.Get(k)
		}
	}
	if t, ok := params["token"]; ok && token == "" {
		token = t
	}
	delete(params, "token")
	return params, token, nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}
