package demo

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
)

// SlackStandIn is a local stand-in for Slack's Web API, for the demo: it
// answers chat.postMessage, chat.update and auth.test as Slack does
// (form or JSON bodies, the token as a bearer header or a token field)
// and prints each message posted or updated as one line, so that `make
// run` shows what alert delivery would send. It is not Slack: nothing
// leaves the machine.
type SlackStandIn struct {
	out io.Writer

	mu       sync.Mutex
	seq      int
	channels map[string]string // id → name
}

// NewSlackStandIn prints to out.
func NewSlackStandIn(out io.Writer) *SlackStandIn {
	return &SlackStandIn{out: out, channels: map[string]string{}}
}

// channelID is a stable id for a channel name (an id is kept as it is).
func (s *SlackStandIn) channelID(name string) string {
	if _, ok := s.channels[name]; ok || name == "" {
		return name
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	id := fmt.Sprintf("C%08X", h.Sum32())
	s.channels[id] = name
	return id
}

// params reads a Web API call's arguments, form or JSON.
func params(r *http.Request) (map[string]string, error) {
	out := map[string]string{}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		var m map[string]any
		if err := json.NewDecoder(io.LimitReader(r.Body, 4<<20)).Decode(&m); err != nil {
			return nil, err
		}
		for k, v := range m {
			if s, ok := v.(string); ok {
				out[k] = s
			} else {
				b, _ := json.Marshal(v)
				out[k] = string(b)
			}
		}
		return out, nil
	}
	r.Body = http.MaxBytesReader(nil, r.Body, 4<<20)
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	for k := range r.Form {
		out[k] = r.Form.Get(k)
	}
	return out, nil
}

func answer(w http.ResponseWriter, body map[string]any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(body)
}

// ServeHTTP answers one Web API call under any prefix (…/chat.postMessage).
func (s *SlackStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	p, err := params(r)
	if err != nil {
		answer(w, map[string]any{"ok": false, "error": "invalid_form_data"})
		return
	}
	token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if token == "" {
		token = p["token"]
	}
	if token == "" {
		answer(w, map[string]any{"ok": false, "error": "not_authed"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch method {
	case "auth.test":
		answer(w, map[string]any{"ok": true, "url": "http://127.0.0.1/", "team": "demo", "user": "furrow", "team_id": "T0DEMO", "user_id": "U0FURROW"})
	case "chat.postMessage", "chat.update":
		if p["channel"] == "" {
			answer(w, map[string]any{"ok": false, "error": "channel_not_found"})
			return
		}
		id := s.channelID(p["channel"])
		ts := p["ts"]
		what := "update"
		if method == "chat.postMessage" {
			s.seq++
			ts = fmt.Sprintf("1700000000.%06d", s.seq)
			what = "post  "
			if p["thread_ts"] != "" {
				what = "reply "
			}
		} else if ts == "" {
			answer(w, map[string]any{"ok": false, "error": "message_not_found"})
			return
		}
		fmt.Fprintf(s.out, "slack stand-in: %s %-18s ts=%s  %s\n", what, s.channels[id], ts, oneLine(p["text"]))
		answer(w, map[string]any{"ok": true, "channel": id, "ts": ts, "message": map[string]any{"text": p["text"], "ts": ts}})
	default:
		answer(w, map[string]any{"ok": false, "error": "unknown_method"})
	}
}

// oneLine is a message's text on one line, at most 160 characters.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 160 {
		s = string(r[:159]) + "…"
	}
	return s
}
