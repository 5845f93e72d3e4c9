package flowlogs

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// textSource reads records from flow log text, one per line.
type textSource struct {
	r      *Reader
	br     *bufio.Reader
	closer func()
	line   int64

	explicit *layout // from Options.Fields
	header   *layout // from the last header line, overrides explicit
	tok      [maxLineFields][]byte

	goodSeen bool // a record parsed: the file is a flow log
	badLead  int  // failed non-empty lines before the first good one
}

// newTextSource sniffs the start of the text for binary data and returns
// the source. closer, if any, is called by close.
func newTextSource(r *Reader, br *bufio.Reader, closer func()) (*textSource, error) {
	s := &textSource{r: r, br: br, closer: closer}
	if r.opts.Fields != nil {
		s.explicit = newLayout(mustLayout(r.opts.Fields))
	}
	head, err := br.Peek(4096)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, fmt.Errorf("read %s: %w", r.name, err)
	}
	if isBinary(head) {
		return nil, r.notFlowLog("binary data that is neither gzip nor Parquet")
	}
	return s, nil
}

// isBinary reports whether text starts with bytes that flow logs and JSON
// never contain: control characters, in more than one byte in 50. NULs are
// not counted: a writer that crashed, or a file system that lost the end
// of a write, leaves runs of NULs in good text, and a single NUL says
// nothing of the lines around it. Those lines are rejected one by one
// (see hasControl), and a file whose first lines all fail is still not a
// flow log.
func isBinary(head []byte) bool {
	ctl := 0
	for _, c := range head {
		if c != 0 && c < 0x20 && c != '\n' && c != '\r' && c != '\t' {
			ctl++
		}
	}
	return ctl > 0 && ctl*50 > len(head)
}

// hasControl returns the first control byte of line other than a tab, and
// whether there is one. Flow log fields never hold one, and the string
// fields would otherwise store it. It looks at eight bytes at a time: the
// word test is exact for "some byte is below 0x20" (tabs then take the
// slow path).
func hasControl(line []byte) (byte, bool) {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(line); i += 8 {
		x := binary.LittleEndian.Uint64(line[i:])
		if (x-0x20*ones)&^x&highs != 0 {
			break
		}
	}
	for ; i < len(line); i++ {
		if c := line[i]; c < 0x20 && c != '\t' {
			return c, true
		}
	}
	return 0, false
}

func (s *textSource) close() error {
	if s.closer != nil {
		s.closer()
		s.closer = nil
	}
	return nil
}

func (s *textSource) fill(b *Batch, max int) error {
	for b.rows < max {
		line, err := s.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			s.line++
			if err := s.skipLongLine(); err != nil && err != io.EOF {
				return fmt.Errorf("read %s: %w", s.r.name, err)
			}
			if ferr := s.failed(fmt.Sprintf("line longer than %d bytes", s.br.Size())); ferr != nil {
				return ferr
			}
			continue
		}
		if len(line) > 0 {
			s.line++
			if perr := s.process(b, line); perr != nil {
				return perr
			}
		}
		if err != nil {
			if err == io.EOF {
				if !s.goodSeen && s.badLead > 0 {
					return s.r.notFlowLog(fmt.Sprintf("none of its %d lines parse", s.badLead))
				}
				return io.EOF
			}
			return fmt.Errorf("read %s: %w", s.r.name, err)
		}
	}
	return nil
}

// skipLongLine discards the rest of a line that overflowed the buffer.
func (s *textSource) skipLongLine() error {
	for {
		_, err := s.br.ReadSlice('\n')
		if err != bufio.ErrBufferFull {
			return err
		}
	}
}

// failed records a rejected line and declares the file not a flow log when
// its first lines all fail.
func (s *textSource) failed(reason string) error {
	s.r.reject(s.line, reason)
	if !s.goodSeen {
		s.badLead++
		if s.badLead >= notFlowLogLines {
			return s.r.notFlowLog(fmt.Sprintf("its first %d lines do not parse (line %d: %s)",
				s.badLead, s.line, reason))
		}
	}
	return nil
}

// process handles one physical line; it returns only file-level errors.
func (s *textSource) process(b *Batch, line []byte) error {
	line = bytes.TrimRight(line, " \t\r\n")
	if len(line) == 0 {
		return nil
	}
	if line[0] == '{' {
		msg, ok := jsonMessage(line)
		if !ok {
			return s.failed(`JSON line without a "message" string`)
		}
		line = bytes.TrimSpace(msg)
		if len(line) == 0 {
			return s.failed("empty message")
		}
	}
	if c, bad := hasControl(line); bad {
		return s.failed(fmt.Sprintf("control byte 0x%02x in the line (NULs are what a crashed writer leaves)", c))
	}
	n := splitFields(line, &s.tok)
	if isHeader(s.tok[0]) {
		if n > maxLineFields {
			return fmt.Errorf("%s: line %d: header has %d fields", s.r.name, s.line, n)
		}
		names := make([]string, n)
		for i := range names {
			names[i] = string(s.tok[i])
		}
		idx, err := layoutOf(names)
		if err != nil {
			return fmt.Errorf("%s: header at line %d: %w", s.r.name, s.line, err)
		}
		s.header = newLayout(idx)
		return nil
	}
	l := s.header
	if l == nil {
		l = s.explicit
	}
	if l == nil {
		l = defaultLayoutInfo[n]
		if l == nil {
			return s.failed(fmt.Sprintf("%d fields, and no header, format or default format has %d", n, n))
		}
	}
	b.use(l)
	if n != len(l.idx) {
		return s.failed(fmt.Sprintf("%d fields, want %d", n, len(l.idx)))
	}
	if reason := parseRecord(b, &s.tok, l); reason != "" {
		return s.failed(reason)
	}
	s.goodSeen = true
	s.r.stored()
	return nil
}

// isHeader reports whether a line whose first field is tok is a header: no
// record starts with a field name (versions and counters are numbers, ids
// carry a prefix such as "eni-").
func isHeader(tok []byte) bool {
	if len(tok) == 0 || !(tok[0] >= 'a' && tok[0] <= 'z') {
		return false
	}
	_, ok := byName[string(tok)]
	return ok
}

// errReaderClosed stops the decompression goroutine.
var errReaderClosed = errors.New("reader closed")
