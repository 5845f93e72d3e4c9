package main

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/require"
)

// readAll reads every event of stream, one byte per read when oneByte (so
// that CRLF pairs and lines straddle reads).
func readAll(t *testing.T, stream, lastID string, oneByte bool) ([]sseEvent, *sseReader, error) {
	t.Helper()
	var r io.Reader = strings.NewReader(stream)
	if oneByte {
		r = iotest.OneByteReader(r)
	}
	sr := newSSEReader(r, lastID)
	var out []sseEvent
	for {
		ev, err := sr.Next()
		if err != nil {
			return out, sr, err
		}
		out = append(out, ev)
	}
}

func TestSSEReader(t *testing.T) {
	cases := []struct {
		name, stream, resume string
		want                 []sseEvent
		// lastID is the Last-Event-ID a reconnection sends after the
		// stream ends.
		lastID string
		retry  time.Duration
	}{
		{name: "one event", stream: "id: 1\nevent: log\ndata: {\"a\":1}\n\n",
			want: []sseEvent{{"1", "log", `{"a":1}`}}, lastID: "1"},
		{name: "multi-line data joined with newlines", stream: "event: log\ndata: first\ndata: second\ndata:\ndata: fourth\n\n",
			want: []sseEvent{{"", "log", "first\nsecond\n\nfourth"}}},
		{name: "comments and keep-alives ignored", stream: ": keep-alive\n\n:another\nid: 7\n: in the middle\nevent: log\ndata: x\n\n: keep-alive\n\n",
			want: []sseEvent{{"7", "log", "x"}}, lastID: "7"},
		{name: "no type is message", stream: "data: hello\n\n",
			want: []sseEvent{{"", "message", "hello"}}},
		{name: "one leading space only is dropped; no space kept", stream: "data:no-space\n\ndata:  two spaces\n\n",
			want: []sseEvent{{"", "message", "no-space"}, {"", "message", " two spaces"}}},
		{name: "a field with no colon has an empty value", stream: "data\n\n",
			want: []sseEvent{{"", "message", ""}}},
		{name: "value with colons", stream: "data: a: b: c\n\n",
			want: []sseEvent{{"", "message", "a: b: c"}}},
		{name: "CRLF and lone CR line ends", stream: "id: 3\r\nevent: log\r\ndata: a\r\rdata: b\revent: done\r\n\r\n",
			want: []sseEvent{{"3", "log", "a"}, {"3", "done", "b"}}, lastID: "3"},
		{name: "missing trailing blank line: the cut event is not dispatched, its id not taken", stream: "id: 1\nevent: log\ndata: one\n\nid: 2\nevent: log\ndata: two",
			want: []sseEvent{{"1", "log", "one"}}, lastID: "1"},
		{name: "cut after the data's newline still needs the blank line", stream: "id: 1\nevent: log\ndata: one\n\nid: 2\ndata: two\n",
			want: []sseEvent{{"1", "log", "one"}}, lastID: "1"},
		{name: "reconnection: the resumed id is kept until an event sets one", resume: "41", stream: ": keep-alive\n\nevent: done\ndata: {}\n\n",
			want: []sseEvent{{"41", "done", "{}"}}, lastID: "41"},
		{name: "reconnection: a new id replaces it", resume: "41", stream: "id: 42\nevent: log\ndata: x\n\n",
			want: []sseEvent{{"42", "log", "x"}}, lastID: "42"},
		{name: "an id persists over the next events", stream: "id: 5\ndata: a\n\ndata: b\n\n",
			want: []sseEvent{{"5", "message", "a"}, {"5", "message", "b"}}, lastID: "5"},
		{name: "an event with an id and no data sets the id, dispatches nothing", stream: "id: 9\n\n",
			lastID: "9"},
		{name: "an id with NUL is ignored", stream: "id: 1\ndata: a\n\nid: x\x00y\ndata: b\n\n",
			want: []sseEvent{{"1", "message", "a"}, {"1", "message", "b"}}, lastID: "1"},
		{name: "retry in ms; a bad one ignored", stream: "retry: 1500\n\nretry: soon\n\ndata: a\n\n",
			want: []sseEvent{{"", "message", "a"}}, retry: 1500 * time.Millisecond},
		{name: "unknown fields ignored", stream: "foo: bar\ndata: a\n\n",
			want: []sseEvent{{"", "message", "a"}}},
		{name: "empty stream", stream: ""},
	}
	for _, tc := range cases {
		for _, oneByte := range []bool{false, true} {
			t.Run(tc.name, func(t *testing.T) {
				got, sr, err := readAll(t, tc.stream, tc.resume, oneByte)
				require.ErrorIs(t, err, io.EOF)
				require.Equal(t, tc.want, got)
				require.Equal(t, tc.lastID, sr.LastID())
				require.Equal(t, tc.retry, sr.Retry())
			})
		}
	}
}

// TestSSEReaderError: a read error (the connection reset) is returned as
// such, after the events before it, and LastID is where to resume.
func TestSSEReaderError(t *testing.T) {
	reset := errors.New("connection reset by peer")
	r := io.MultiReader(strings.NewReader("id: 1\nevent: log\ndata: a\n\nid: 2\nevent: log\ndata: b"), iotest.ErrReader(reset))
	sr := newSSEReader(r, "")
	ev, err := sr.Next()
	require.NoError(t, err)
	require.Equal(t, sseEvent{"1", "log", "a"}, ev)
	_, err = sr.Next()
	require.ErrorIs(t, err, reset)
	require.Equal(t, "1", sr.LastID())
}

// FuzzSSEReader: any input ends (EOF) without a panic, every event's data
// comes from data lines, and reading byte by byte gives the same events.
func FuzzSSEReader(f *testing.F) {
	for _, s := range []string{"id: 1\nevent: log\ndata: x\n\n", ": c\r\n\r\ndata: a\rdata: b\r\r", "data", "\n\n\n", "retry: 10\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, _, errA := readAll(t, s, "", false)
		b, _, errB := readAll(t, s, "", true)
		if len(s) < sseMaxLine {
			require.ErrorIs(t, errA, io.EOF)
			require.ErrorIs(t, errB, io.EOF)
		}
		require.Equal(t, a, b)
		for _, ev := range a {
			require.NotEmpty(t, ev.Event)
			require.NotContains(t, ev.Data, "\r")
		}
	})
}
