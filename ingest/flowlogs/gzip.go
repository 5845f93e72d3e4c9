package flowlogs

import (
	"bufio"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
)

// newGzipSource decompresses in a goroutine of its own, so that inflating
// the next chunk overlaps parsing the current one.
func newGzipSource(r *Reader, br *bufio.Reader) (*textSource, error) {
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, fmt.Errorf("%s: gzip: %w", r.name, err)
	}
	ar := newAsyncReader(zr)
	src, err := newTextSource(r, bufio.NewReaderSize(ar, 256<<10), ar.close)
	if err != nil {
		ar.close()
		return nil, err
	}
	return src, nil
}

// chunk is a block of decompressed bytes, or the error that ended the
// stream.
type chunk struct {
	buf []byte
	err error
}

// asyncReader reads its source ahead in a goroutine, a few chunks at most.
type asyncReader struct {
	ch   chan chunk
	free chan []byte
	done chan struct{}
	cur  chunk
	off  int
	err  error
}

const (
	asyncChunk  = 256 << 10
	asyncChunks = 4
)

func newAsyncReader(src io.Reader) *asyncReader {
	a := &asyncReader{
		ch:   make(chan chunk, asyncChunks),
		free: make(chan []byte, asyncChunks),
		done: make(chan struct{}),
	}
	for range asyncChunks {
		a.free <- make([]byte, asyncChunk)
	}
	go a.run(src)
	return a
}

func (a *asyncReader) run(src io.Reader) {
	for {
		var buf []byte
		select {
		case buf = <-a.free:
		case <-a.done:
			return
		}
		n, err := io.ReadFull(src, buf)
		if err == io.ErrUnexpectedEOF {
			err = io.EOF
		}
		select {
		case a.ch <- chunk{buf: buf[:n], err: err}:
		case <-a.done:
			return
		}
		if err != nil {
			return
		}
	}
}

// Read implements io.Reader.
func (a *asyncReader) Read(p []byte) (int, error) {
	for a.off == len(a.cur.buf) {
		if a.err != nil {
			return 0, a.err
		}
		if a.cur.buf != nil {
			a.free <- a.cur.buf[:cap(a.cur.buf)]
			a.cur.buf = nil
		}
		select {
		case c := <-a.ch:
			a.cur, a.off = c, 0
			a.err = c.err
		case <-a.done:
			return 0, errReaderClosed
		}
	}
	n := copy(p, a.cur.buf[a.off:])
	a.off += n
	return n, nil
}

// close stops the goroutine; a read in progress in it finishes first.
func (a *asyncReader) close() {
	select {
	case <-a.done:
	default:
		close(a.done)
	}
}
