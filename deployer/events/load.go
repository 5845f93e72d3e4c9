package events

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
)

// maxLineBytes bounds one JSON line of a load: an event is well under a
// few KB (messages are cut at 4 KB).
const maxLineBytes = 1 << 20

// LoadReport is what Load did.
type LoadReport struct {
	// Lines is the non-blank lines read; Written the events written (a
	// line loaded before is written again and stored once).
	Lines, Written int
	// Bad names each refused line as file:line: reason.
	Bad []string
}

// Load writes the events of a JSON-lines stream (one Event per line, as
// its JSON; blank lines skipped), each on its own so that its
// deduplication token is its content alone: loading the file again, or
// the same file with a bad line fixed, stores nothing twice. A line that
// is not a valid event is reported (name:line: reason) and skipped; its
// neighbours are written. The error is a read or store failure only.
func (w *Writer) Load(ctx context.Context, name string, r io.Reader) (LoadReport, error) {
	var rep LoadReport
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLineBytes)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		rep.Lines++
		e, err := ParseLine(b)
		if err != nil {
			rep.Bad = append(rep.Bad, fmt.Sprintf("%s:%d: %v", name, line, err))
			continue
		}
		if err := w.Write(ctx, e); err != nil {
			return rep, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		rep.Written++
	}
	if err := sc.Err(); err != nil {
		return rep, fmt.Errorf("%s: after line %d: %w", name, line, err)
	}
	return rep, nil
}

// ParseLine reads one JSON line of a load: an Event's JSON, unknown
// fields refused (a misspelt field would otherwise load as empty), then
// normalized and validated.
func ParseLine(b []byte) (Event, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var e Event
	if err := dec.Decode(&e); err != nil {
		return Event{}, fmt.Errorf("not a deploy event: %w", err)
	}
	if dec.More() {
		return Event{}, fmt.Errorf("not a deploy event: more than one JSON value on the line")
	}
	return e.Normalize()
}
