package flowlogs

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ClickHouse/ch-go/proto"
	"github.com/parquet-go/parquet-go"
)

// parquetMagic starts (and ends) every Parquet file.
var parquetMagic = []byte("PAR1")

// OpenParquet returns a Reader of a Parquet flow log file, as AWS writes
// them: one column per field, named in snake_case ("account_id"), with
// INT_32/INT_64 numbers and STRING addresses and ids (string numbers are
// accepted too). Options.Fields is ignored: the columns name the fields.
// Line numbers in LineError are 1-based row numbers.
func OpenParquet(name string, r io.ReaderAt, size int64, opts Options) (*Reader, error) {
	opts = opts.withDefaults()
	head := make([]byte, len(parquetMagic))
	if n, _ := r.ReadAt(head, 0); n < len(head) || !bytes.Equal(head, parquetMagic) {
		return nil, fmt.Errorf("%s: %w: not Parquet (no PAR1 at its start)", name, ErrNotFlowLog)
	}
	f, err := parquet.OpenFile(r, size)
	if err != nil {
		// It starts as Parquet: a file cut short or damaged, which may be
		// whole the next time it is read, not a file of another kind.
		return nil, fmt.Errorf("%s: %w: parquet: %v; the object is not stored and is read again when it changes", name, ErrCorrupt, err)
	}
	rd := &Reader{name: name, opts: opts, format: FormatParquet}
	src, err := newParquetSource(rd, f)
	if err != nil {
		return nil, err
	}
	rd.src = src
	return rd, nil
}

// openParquetStream opens a Parquet file that NewReader was given as a
// stream: through r's own random access when it has one, else from memory.
func openParquetStream(name string, r io.Reader, br *bufio.Reader, opts Options) (*Reader, error) {
	if ra, ok := r.(interface {
		io.ReaderAt
		io.Seeker
	}); ok && br.Buffered() > 0 {
		// br has consumed from the current offset; Parquet offsets are
		// absolute, so the file must have been at its start.
		start, err := ra.Seek(0, io.SeekCurrent)
		if err == nil {
			end, err := ra.Seek(0, io.SeekEnd)
			if err == nil && start == int64(br.Buffered()) {
				return OpenParquet(name, ra, end, opts)
			}
		}
	}
	data, err := io.ReadAll(br)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return OpenParquet(name, bytes.NewReader(data), int64(len(data)), opts)
}

// parquetSource reads rows of a Parquet file, row group by row group.
type parquetSource struct {
	r      *Reader
	groups []parquet.RowGroup
	rows   parquet.Rows
	fields []int // catalogue index per leaf column
	layout *layout
	buf    []parquet.Row
	row    int64
}

func newParquetSource(r *Reader, f *parquet.File) (*parquetSource, error) {
	cols := f.Schema().Columns()
	s := &parquetSource{r: r, groups: f.RowGroups()}
	names := make([]string, len(cols))
	for i, path := range cols {
		names[i] = strings.Join(path, ".")
	}
	idx, err := layoutOf(names)
	if err != nil {
		if errors.Is(err, ErrUnknownField) && !anyKnown(names) {
			return nil, r.notFlowLog("Parquet file without flow log columns")
		}
		return nil, fmt.Errorf("%s: parquet columns: %w", r.name, err)
	}
	s.fields, s.layout = idx, newLayout(idx)
	s.buf = make([]parquet.Row, 1024)
	return s, nil
}

func anyKnown(names []string) bool {
	for _, n := range names {
		if _, ok := lookup(n); ok {
			return true
		}
	}
	return false
}

func (s *parquetSource) close() error {
	if s.rows != nil {
		err := s.rows.Close()
		s.rows = nil
		return err
	}
	return nil
}

func (s *parquetSource) fill(b *Batch, max int) error {
	b.use(s.layout)
	for b.rows < max {
		if s.rows == nil {
			if len(s.groups) == 0 {
				return io.EOF
			}
			s.rows = s.groups[0].Rows()
			s.groups = s.groups[1:]
		}
		want := min(len(s.buf), max-b.rows)
		n, err := s.rows.ReadRows(s.buf[:want])
		for _, row := range s.buf[:n] {
			s.row++
			if reason := s.appendRow(b, row); reason != "" {
				s.r.reject(s.row, reason)
				continue
			}
			s.r.stored()
		}
		if err == io.EOF {
			s.rows.Close()
			s.rows = nil
			continue
		}
		if err != nil {
			return fmt.Errorf("read %s: parquet: %w", s.r.name, err)
		}
	}
	return nil
}

// appendRow appends one Parquet row, or nothing and the reason it is bad.
func (s *parquetSource) appendRow(b *Batch, row parquet.Row) string {
	n := b.rows
	done := 0
	for _, v := range row {
		ci := v.Column()
		if ci < 0 || ci >= len(s.fields) {
			continue
		}
		fi := s.fields[ci]
		if reason := appendValue(&b.cols[fi], catalogue[fi], v); reason != "" {
			for _, fj := range s.fields {
				b.cols[fj].truncate(n)
			}
			return reason
		}
		done++
	}
	if done != len(s.fields) {
		for _, fj := range s.fields {
			b.cols[fj].truncate(n)
		}
		return fmt.Sprintf("row has %d values, want %d", done, len(s.fields))
	}
	if reason := checkBounds(b, n); reason != "" {
		for _, fj := range s.fields {
			b.cols[fj].truncate(n)
		}
		return reason
	}
	b.rows++
	return ""
}

// appendValue appends one Parquet value to c, converting it to the
// column's type; null and "-" are the column default.
func appendValue(c *column, f Field, v parquet.Value) string {
	if v.IsNull() {
		c.appendDefault()
		return ""
	}
	var text []byte
	var num int64
	isNum := false
	switch v.Kind() {
	case parquet.ByteArray, parquet.FixedLenByteArray:
		text = v.ByteArray()
	case parquet.Int32:
		num, isNum = int64(v.Int32()), true
	case parquet.Int64:
		num, isNum = v.Int64(), true
	case parquet.Boolean:
		num, isNum = 0, true
		if v.Boolean() {
			num = 1
		}
	default:
		return fmt.Sprintf("%s: unsupported Parquet type %s", f.Name, v.Kind())
	}
	if !isNum && len(text) == 1 && text[0] == '-' {
		c.appendDefault()
		return ""
	}
	if isNum && (c.kind == kindLC || c.kind == kindIP) {
		text = strconv.AppendInt(nil, num, 10)
		isNum = false
	}
	ok := true
	switch c.kind {
	case kindLC:
		c.lc.Refs = append(c.lc.Refs, c.str.intern(c.lc, text))
		return ""
	case kindIP:
		c.ip = append(c.ip, proto.IPv6{})
		ok = parseIP(text, &c.ip[len(c.ip)-1])
		if !ok {
			c.ip = c.ip[:len(c.ip)-1]
		}
	default:
		var max uint64
		switch c.kind {
		case kindU8:
			max = 0xff
		case kindU16:
			max = 0xffff
		case kindU64:
			max = 1<<64 - 1
		case kindTime:
			max = 1<<32 - 1
		}
		var u uint64
		if isNum {
			ok = num >= 0 && uint64(num) <= max
			u = uint64(num)
		} else {
			u, ok = parseUint(text, max)
		}
		if ok {
			switch c.kind {
			case kindU8:
				c.u8 = append(c.u8, uint8(u))
			case kindU16:
				c.u16 = append(c.u16, uint16(u))
			case kindU64:
				c.u64 = append(c.u64, u)
			case kindTime:
				c.dt.Data = append(c.dt.Data, proto.DateTime(u))
			}
		}
	}
	if !ok {
		if isNum {
			text = strconv.AppendInt(nil, num, 10)
		}
		return badValue(f, text)
	}
	return ""
}
