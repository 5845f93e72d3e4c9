package store

import (
	"context"
	"sync"
	"time"
)

// BufferOptions say when a Buffer hands its block to the Writer.
type BufferOptions struct {
	// Rows flushes once the block holds at least this many rows (65,536
	// when 0).
	Rows int
	// Interval flushes a non-empty block at least this often (1s when 0),
	// so a trickle of rows still reaches the table quickly.
	Interval time.Duration
	// Token names a block for deduplication; nil inserts without a token
	// (a retried block may then be stored twice).
	Token func(b Block) string
}

// Buffer accumulates rows from streaming producers (watchers, pollers) and
// hands them to a Writer in blocks, by size or by time. It is safe for
// concurrent use.
type Buffer struct {
	w      *Writer
	newBlk func() Block
	opts   BufferOptions

	mu   sync.Mutex
	cur  Block
	err  error
	stop chan struct{}
	done chan struct{}
}

// NewBuffer starts a buffer feeding w. newBlock returns an empty block with
// the table's columns; a new one is made after each flush, since the Writer
// owns a block until it is inserted. Close the Buffer before the Writer.
func NewBuffer(w *Writer, newBlock func() Block, opts BufferOptions) *Buffer {
	if opts.Rows <= 0 {
		opts.Rows = 65536
	}
	if opts.Interval <= 0 {
		opts.Interval = time.Second
	}
	b := &Buffer{w: w, newBlk: newBlock, opts: opts, cur: newBlock(),
		stop: make(chan struct{}), done: make(chan struct{})}
	go b.tick()
	return b
}

// Append calls fill with the current block, under the buffer's lock, to
// append rows to every column, then flushes when the block is full. Append
// waits while the Writer's queue is full (back-pressure) and returns the
// first failure of a timed flush, if one happened since the last call.
func (b *Buffer) Append(ctx context.Context, fill func(Block)) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.err; err != nil {
		b.err = nil
		return err
	}
	fill(b.cur)
	if b.cur.Rows() >= b.opts.Rows {
		return b.flushLocked(ctx)
	}
	return nil
}

// Flush hands the current block to the Writer and waits for the Writer to
// insert everything written so far.
func (b *Buffer) Flush(ctx context.Context) error {
	b.mu.Lock()
	err := b.flushLocked(ctx)
	b.mu.Unlock()
	if err != nil {
		return err
	}
	return b.w.Flush(ctx)
}

func (b *Buffer) flushLocked(ctx context.Context) error {
	if b.cur.Rows() == 0 {
		return nil
	}
	blk := b.cur
	b.cur = b.newBlk()
	token := ""
	if b.opts.Token != nil {
		token = b.opts.Token(blk)
	}
	return b.w.Write(ctx, blk, token)
}

func (b *Buffer) tick() {
	defer close(b.done)
	t := time.NewTicker(b.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			b.mu.Lock()
			if err := b.flushLocked(context.Background()); err != nil && b.err == nil {
				b.err = err
			}
			b.mu.Unlock()
		}
	}
}

// Close stops the timer and flushes what is left.
func (b *Buffer) Close(ctx context.Context) error {
	close(b.stop)
	<-b.done
	return b.Flush(ctx)
}
