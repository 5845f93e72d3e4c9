package flowlogs

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// ErrNotFlowLog is returned, wrapped with the file name, for a file that is
// not a flow log at all: binary data that is neither gzip nor Parquet, or
// text whose first lines all fail to parse. It is detected from the start of
// the file, without reading the rest.
var ErrNotFlowLog = errors.New("not a flow log")

// Defaults of Options.
const (
	DefaultMaxErrorDetails = 20
	DefaultBatchRows       = 65536
)

// notFlowLogLines is how many leading non-empty lines may fail before a
// text file with no good record is declared not a flow log.
const notFlowLogLines = 8

// maxLineBytes bounds a line; a longer one is rejected without being
// buffered whole.
const maxLineBytes = 64 << 10

// Options tune a Reader. The zero value is ready to use.
type Options struct {
	// Fields is the explicit format of headerless files: AWS field names in
	// line order (see ParseFormat). A header line in the file overrides it;
	// without either, the documented default for the line's field count is
	// used (see DefaultFields).
	Fields []string
	// MaxErrorDetails is how many rejected lines are kept in Stats.Errors
	// (all are counted); 0 means DefaultMaxErrorDetails, negative none.
	MaxErrorDetails int
	// BatchRows is the most records Next puts in a batch; 0 means
	// DefaultBatchRows.
	BatchRows int
}

// LineError describes one rejected line.
type LineError struct {
	File string
	// Line is the 1-based physical line of the decompressed file, header
	// lines included; for Parquet, the 1-based row.
	Line   int64
	Reason string
}

// Error formats the line error as "file:line: reason".
func (e LineError) Error() string {
	return e.File + ":" + strconv.FormatInt(e.Line, 10) + ": " + e.Reason
}

// Stats counts what a Reader did with one file.
type Stats struct {
	// Read is the number of records seen (lines that are neither empty nor
	// headers, or Parquet rows).
	Read int64
	// Stored is the number of records put in batches.
	Stored int64
	// Rejected is the number of malformed records, skipped.
	Rejected int64
	// Errors details the first Options.MaxErrorDetails rejected records.
	Errors []LineError
}

// Format names how a file is encoded.
type Format string

// The formats a Reader detects.
const (
	FormatText    Format = "text"
	FormatGzip    Format = "gzip"
	FormatParquet Format = "parquet"
)

// source fills batches from one encoding of a file.
type source interface {
	fill(b *Batch, max int) error
	close() error
}

// Reader parses one flow log file into batches. It is not safe for
// concurrent use; parse files in parallel with one Reader each.
type Reader struct {
	name   string
	opts   Options
	format Format
	src    source
	stats  Stats
	err    error
}

// NewReader detects how the file is encoded from its first bytes (gzip
// magic, Parquet "PAR1", else text; text lines that start with '{' are
// CloudWatch Logs or Firehose JSON records whose "message" is the flow log
// line) and returns a Reader of its records. name is used in errors only.
// A Parquet file needs random access: when r is not an io.ReaderAt with an
// io.Seeker, it is read into memory (use OpenParquet to avoid that). Close
// the Reader when done.
func NewReader(name string, r io.Reader, opts Options) (*Reader, error) {
	opts = opts.withDefaults()
	if opts.Fields != nil {
		if _, err := layoutOf(opts.Fields); err != nil {
			return nil, fmt.Errorf("%s: explicit format: %w", name, err)
		}
	}
	cr := &countingReader{r: r}
	br := bufio.NewReaderSize(cr, 64<<10)
	head, err := br.Peek(4)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	rd := &Reader{name: name, opts: opts}
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		rd.format = FormatGzip
		src, err := newGzipSource(rd, br, cr)
		if err != nil {
			return nil, err
		}
		rd.src = src
	case bytes.Equal(head, parquetMagic):
		return openParquetStream(name, r, br, opts)
	default:
		rd.format = FormatText
		src, err := newTextSource(rd, br, nil)
		if err != nil {
			return nil, err
		}
		rd.src = src
	}
	return rd, nil
}

func (o Options) withDefaults() Options {
	if o.MaxErrorDetails == 0 {
		o.MaxErrorDetails = DefaultMaxErrorDetails
	}
	if o.BatchRows <= 0 {
		o.BatchRows = DefaultBatchRows
	}
	return o
}

// Next resets b and fills it with up to Options.BatchRows records, in file
// order, and returns how many. At the end of the file it returns 0 and
// io.EOF. Any other error concerns the whole file (ErrNotFlowLog,
// ErrUnknownField, a decompression or read error): it is returned after the
// records read before it, and again on every later call.
func (r *Reader) Next(b *Batch) (int, error) {
	b.Reset()
	if r.err != nil {
		return 0, r.err
	}
	err := r.src.fill(b, r.opts.BatchRows)
	b.pad()
	if err != nil {
		r.err = err
		if b.rows == 0 {
			return 0, err
		}
	}
	return b.rows, nil
}

// Stats returns the counts so far; call it after Next returned an error for
// the file's totals. The Errors slice is shared with the Reader.
func (r *Reader) Stats() Stats { return r.stats }

// Name returns the file name given to NewReader.
func (r *Reader) Name() string { return r.name }

// Format returns how the file is encoded.
func (r *Reader) Format() Format { return r.format }

// Close releases the Reader's decompression goroutine and buffers. It does
// not close the underlying reader.
func (r *Reader) Close() error {
	if r.src == nil {
		return nil
	}
	err := r.src.close()
	r.src = nil
	if r.err == nil {
		r.err = errors.New("flowlogs: reader closed")
	}
	return err
}

// stored counts one stored record.
func (r *Reader) stored() {
	r.stats.Read++
	r.stats.Stored++
}

// reject counts one rejected record and keeps its detail if there is room.
func (r *Reader) reject(line int64, reason string) {
	r.stats.Read++
	r.stats.Rejected++
	if len(r.stats.Errors) < r.opts.MaxErrorDetails {
		r.stats.Errors = append(r.stats.Errors, LineError{File: r.name, Line: line, Reason: reason})
	}
}

func (r *Reader) notFlowLog(detail string) error {
	return fmt.Errorf("%s: %w: %s", r.name, ErrNotFlowLog, detail)
}
