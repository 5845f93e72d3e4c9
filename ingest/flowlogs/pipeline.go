package flowlogs

import (
	"context"
	"errors"
	"io"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/furrowdev/furrow/ingest/pods"
	sources "github.com/furrowdev/furrow/ingest/source"
	"github.com/furrowdev/furrow/store"
)

// pipeline moves one object's records into flow_logs in two stages that
// overlap: read (parse blocks into slots, on the calling goroutine) and
// store (attribute the blocks and send them, StreamBlocks per INSERT
// stream, on a goroutine of an errgroup). Slots go from read to store on
// work and come back on free; read tells store whether the object was read
// to its end on end, after closing work.
type pipeline struct {
	i   *Ingester
	id  string // the object's identity: names the streams' tokens
	loc string // where it is read: flow_logs.source
	w   sources.Window

	work chan *slot
	free chan *slot
	end  chan bool // true: the last, partial stream is committed
	made int       // slots created for this object

	// checked delivers the whole-object check (CheckCompressed); no stream
	// is committed before it passed.
	checked   <-chan error
	checkOnce sync.Once
	checkErr  error
}

// check waits for the whole-object check, once.
func (p *pipeline) check() error {
	p.checkOnce.Do(func() { p.checkErr = <-p.checked })
	return p.checkErr
}

// checkFailed carries the whole-object check's error out of the store
// stage: it is a read error (the object is corrupt), not a store one.
type checkFailed struct{ err error }

func (e *checkFailed) Error() string { return e.err.Error() }
func (e *checkFailed) Unwrap() error { return e.err }

func (i *Ingester) newPipeline(id, loc string, w sources.Window, checked <-chan error) *pipeline {
	return &pipeline{
		i: i, id: id, loc: loc, w: w, checked: checked,
		work: make(chan *slot, i.opts.Queue),
		free: make(chan *slot, i.opts.Queue+1),
		end:  make(chan bool, 1),
	}
}

// run reads rd to its end (or to the first error) while the records are
// stored. It fills res's counters and returns the read error and the
// store's error apart: they are retried differently.
func (p *pipeline) run(ctx context.Context, rd *Reader, res *ObjectResult) (readErr, storeErr error) {
	defer p.recycle()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return p.store(gctx) })
	readErr = p.read(gctx, rd, res)
	// The stream in progress is committed only when the object was read
	// to its end: after a read error (a file that changed, a Parquet page
	// that does not decode) the object is not recorded, and keeping its
	// rows would count them again once it is fixed. Compressed objects are
	// checked whole before the first insert (CheckCompressed), so their
	// corruption never gets here.
	p.end <- readErr == nil && ctx.Err() == nil
	close(p.work)
	storeErr = g.Wait()
	if storeErr != nil && ctx.Err() == nil && errors.Is(readErr, context.Canceled) {
		readErr = nil // the reader stopped because the store failed
	}
	// An object that committed nothing (no records, or a read error before
	// the first stream) has not waited for its check yet: it must not be
	// recorded as done if it is corrupt.
	if cerr := p.check(); cerr != nil {
		return cerr, nil
	}
	var cf *checkFailed
	if errors.As(storeErr, &cf) {
		return cf.err, nil
	}
	return readErr, storeErr
}

// read parses rd into slots and hands them to store, in order.
func (p *pipeline) read(ctx context.Context, rd *Reader, res *ObjectResult) error {
	for {
		sl, err := p.slot(ctx)
		if err != nil {
			return err
		}
		n, err := rd.Next(sl.batch)
		n = keepWindow(sl.batch, n, p.w, res)
		if n > 0 {
			select {
			case p.work <- sl:
				res.Stored += int64(n)
			case <-ctx.Done():
				return ctx.Err()
			}
		} else {
			p.free <- sl
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// keepWindow drops the n records of b that start outside w (records
// without a start stay), counts them in res and returns how many remain.
func keepWindow(b *Batch, n int, w sources.Window, res *ObjectResult) int {
	if n == 0 || w.Open() {
		return n
	}
	since, until := w.Since.Unix(), w.Until.Unix()
	kept := b.Keep(func(r int) bool {
		s := int64(b.Start(r))
		return s == 0 || (w.Since.IsZero() || s >= since) && (w.Until.IsZero() || s < until)
	})
	res.OutsideWindow += int64(n - kept)
	return kept
}

// slot returns a free slot: one that store gave back, or a new one while
// fewer than the queue allows exist (a small object needs one).
func (p *pipeline) slot(ctx context.Context) (*slot, error) {
	if p.made < cap(p.free) && len(p.free) == 0 {
		p.made++
		return p.i.slot(), nil
	}
	select {
	case sl := <-p.free:
		return sl, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// store sends the blocks to flow_logs, StreamBlocks per INSERT stream, in
// two steps that overlap: this goroutine attributes each block and sends it
// to the open stream as it comes (the embedded store encodes it into
// memory: the engine is not touched), and a committer closes the full
// streams in order (the INSERT itself). Stream k+1 is thus prepared while
// the engine stores stream k, and an INSERT holds the engine for the
// engine's own work only: on the embedded engine other queries wait for it.
func (p *pipeline) store(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	full := make(chan *openStream, 1)
	g.Go(func() error { return p.commit(full) })
	err := p.prepare(gctx, full)
	close(full)
	if cerr := g.Wait(); cerr != nil {
		return cerr // the committer's failure stopped prepare too
	}
	return err
}

// openStream is a stream being prepared or waiting for its commit.
type openStream struct {
	st     store.BlockStream
	blocks int
	rows   int
}

// prepare attributes and sends the blocks of work, and hands each full
// stream to the committer on full.
func (p *pipeline) prepare(ctx context.Context, full chan<- *openStream) error {
	i := p.i
	// One set of attribution columns: Send is done with a block when it
	// returns. It is kept for the next object (with its address cache).
	attributed, _ := i.pools.attrs.Get().(*Attribution)
	if attributed == nil {
		attributed = NewAttribution()
	}
	defer i.pools.attrs.Put(attributed)
	var cur *openStream
	defer func() {
		if cur != nil {
			cur.st.Abort()
		}
	}()
	seg := 0
	hand := func() error {
		select {
		case full <- cur:
			cur, seg = nil, seg+1
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for sl := range p.work {
		err := p.send(ctx, &cur, seg, sl, attributed)
		p.free <- sl
		if err != nil {
			i.wm.Failed("flow_logs")
			return err
		}
		if cur.blocks == i.opts.StreamBlocks {
			if err := hand(); err != nil {
				return err
			}
		}
	}
	if commit := <-p.end; commit && cur != nil {
		return hand()
	}
	return nil
}

// send attributes one block and sends it to the current stream, opening
// stream seg when there is none.
func (p *pipeline) send(ctx context.Context, cur **openStream, seg int, sl *slot, attributed *Attribution) error {
	i := p.i
	if *cur == nil {
		st, err := i.deps.Store.InsertStream(ctx, "flow_logs", i.token(p.id, seg, p.w), store.WithSettings(i.streamSettings()))
		if err != nil {
			return err
		}
		*cur = &openStream{st: st}
	}
	// Each block asks for the index of its own times: the cache keeps a
	// window of the history, not all of it. (On the embedded engine an
	// open stream does not hold the engine until its commit, so the
	// cache may query it.)
	var idx *pods.Index
	if from, to, ok := startRange(sl.batch); ok {
		idx = i.deps.Index(ctx, from, to)
	}
	blk := i.attr.Attribute(sl.batch, p.loc, idx, attributed)
	if err := (*cur).st.Send(blk); err != nil {
		return err
	}
	(*cur).blocks++
	(*cur).rows += blk.Rows()
	return nil
}

// commit closes the full streams in order; after a failure it aborts the
// ones still coming.
func (p *pipeline) commit(full <-chan *openStream) error {
	var err error
	for o := range full {
		if err == nil {
			if cerr := p.check(); cerr != nil {
				err = &checkFailed{cerr}
			}
		}
		if err != nil {
			o.st.Abort()
			continue
		}
		if err = o.st.Close(); err != nil {
			p.i.wm.Failed("flow_logs")
			continue
		}
		p.i.wm.Inserted("flow_logs", o.blocks, o.rows)
	}
	return err
}

// recycle returns the object's slots to the ingester's pool.
func (p *pipeline) recycle() {
	for range p.made {
		select {
		case sl := <-p.free:
			p.i.pools.slots.Put(sl)
		default:
			return
		}
	}
}
