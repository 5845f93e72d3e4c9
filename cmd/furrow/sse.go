package main

import (
	"bufio"
	"bytes"
	"io"
	"strconv"
	"strings"
	"time"
)

// sseEvent is one dispatched Server-Sent Event.
type sseEvent struct {
	// ID is the last event id after this event (ids persist from one
	// event to the next, as the spec says).
	ID string
	// Event is the event's type: "message" when it gave none.
	Event string
	// Data is its data lines joined with "\n".
	Data string
}

// sseReader reads a text/event-stream as the HTML standard's "event
// stream interpretation" says: lines end with CRLF, LF or CR; a blank
// line dispatches the event; lines starting with ':' are comments; a
// field's value loses one leading space; data lines accumulate; an event
// with no data is not dispatched; an event cut by the end of the stream
// (no blank line after it) is not dispatched either, so a reconnection
// with LastID resumes before it.
type sseReader struct {
	sc *bufio.Scanner
	// lastID is the id of the last dispatched event (the Last-Event-ID of
	// a reconnection); idBuf the id being read.
	lastID, idBuf string
	// retry is the reconnection delay the server asked for (0: none).
	retry time.Duration
}

// sseMaxLine bounds a line (a log line of a deploy is a few hundred
// bytes; a final record a few KB).
const sseMaxLine = 4 << 20

// newSSEReader reads r; lastID is the id the stream resumes after (the
// Last-Event-ID sent), kept until an event sets another.
func newSSEReader(r io.Reader, lastID string) *sseReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), sseMaxLine)
	sc.Split(sseLines)
	return &sseReader{sc: sc, lastID: lastID, idBuf: lastID}
}

// sseLines splits at CRLF, LF or a lone CR.
func sseLines(data []byte, atEOF bool) (int, []byte, error) {
	if atEOF && len(data) == 0 {
		return 0, nil, nil
	}
	if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
		if data[i] == '\n' {
			return i + 1, data[:i], nil
		}
		// CR: a CRLF pair may straddle reads.
		if i+1 < len(data) {
			if data[i+1] == '\n' {
				return i + 2, data[:i], nil
			}
			return i + 1, data[:i], nil
		}
		if atEOF {
			return i + 1, data[:i], nil
		}
		return 0, nil, nil
	}
	if atEOF {
		// The last line has no end: it is still a line (the event it
		// belongs to is not dispatched without a blank line after).
		return len(data), data, nil
	}
	return 0, nil, nil
}

// LastID is the id of the last event dispatched (or the one given to
// newSSEReader): the Last-Event-ID to reconnect with.
func (r *sseReader) LastID() string { return r.lastID }

// Retry is the reconnection delay the stream asked for with `retry:`, 0
// when it did not.
func (r *sseReader) Retry() time.Duration { return r.retry }

// Next returns the next event; io.EOF at the end of the stream (an event
// in progress there is dropped), or the read's error.
func (r *sseReader) Next() (sseEvent, error) {
	var data strings.Builder
	hasData := false
	event := ""
	for r.sc.Scan() {
		line := r.sc.Text()
		if line == "" {
			// Dispatch.
			r.lastID = r.idBuf
			if !hasData {
				event = ""
				continue
			}
			d := data.String()
			d = strings.TrimSuffix(d, "\n")
			if event == "" {
				event = "message"
			}
			return sseEvent{ID: r.lastID, Event: event, Data: d}, nil
		}
		if line[0] == ':' {
			continue // a comment (keep-alive)
		}
		field, value, found := strings.Cut(line, ":")
		if found {
			value = strings.TrimPrefix(value, " ")
		}
		switch field {
		case "event":
			event = value
		case "data":
			data.WriteString(value)
			data.WriteByte('\n')
			hasData = true
		case "id":
			if !strings.ContainsRune(value, 0) {
				r.idBuf = value
			}
		case "retry":
			if ms, err := strconv.ParseUint(value, 10, 32); err == nil && value != "" && strings.Trim(value, "0123456789") == "" {
				r.retry = time.Duration(ms) * time.Millisecond
			}
		}
	}
	if err := r.sc.Err(); err != nil {
		return sseEvent{}, err
	}
	return sseEvent{}, io.EOF
}
