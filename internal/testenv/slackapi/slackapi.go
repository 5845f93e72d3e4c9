// Package slackapi is a local HTTP server speaking Slack's Web API wire
// format for chat.postMessage, chat.update and auth.test. It stands in for
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
	"strconv"
	"strings"
	"sync"
	"testing"
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
}

// New starts a server on 127.0.0.1 accepting token, closed when t ends.
func New(t testing.TB, token string) *Server {
	t.Helper()
	s := &Server{token: token, channels: map[string]string{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("slackapi: listen: %v", err)
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.Listener.Close()
	s.srv.Listener = l
	s.srv.Start()
	t.Cleanup(s.srv.Close)
	return s
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
		ThreadTS: params["thread_ts"], Text: params["text"],
	}
	if b := params["blocks"]; b != "" {
		c.Blocks = json.RawMessage(b)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
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
		s.next++
		ts := fmt.Sprintf("1700000000.%06d", s.next)
		c.Posted = ts
		record("ok")
		msg := map[string]any{"type": "message", "text": c.Text, "ts": ts}
		if c.ThreadTS != "" {
			msg["thread_ts"] = c.ThreadTS
		}
		writeJSON(w, map[string]any{"ok": true, "channel": s.channelID(c.Channel), "ts": ts, "message": msg})
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

// posted reports whether a successful chat.postMessage created ts in
// channel id.
func (s *Server) posted(id, ts string) bool {
	for _, c := range s.calls {
		if c.Posted != "" && c.Posted == ts && s.channelID(c.Channel) == id {
			return true
		}
	}
	return false
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
