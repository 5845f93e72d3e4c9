package flowlogs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/furrowdev/furrow/ingest/ledger"
	"github.com/furrowdev/furrow/ingest/pods"
	sources "github.com/furrowdev/furrow/ingest/source"
	"github.com/furrowdev/furrow/internal/chsql"
	"github.com/furrowdev/furrow/store"
)

// Small objects are grouped into one INSERT: each INSERT costs the engine a
// part, the rollup's part and the deduplication log whatever its size, and
// a backlog of 5-minute files (a few thousand records each) paid that per
// file (0.21× the large-file rate in BenchmarkSmallObjects).
//
// Exactly once, across crashes, whatever groups a re-run forms:
//  1. a group is inserted as one part (all or nothing), its rows carrying
//     the group's id in ingest_group;
//  2. before the INSERT, the group is recorded in the ledger (kind
//     "<kind>-group": its id, its members' identities, its rows' start
//     range);
//  3. after it, its members are recorded as done.
//
// A run that finds a member not done but recorded in a group asks
// flow_logs whether that group's rows are there (ingest_group, within the
// start range: a primary-key range read). If they are, the members are
// recorded as done without reading them; if not, the INSERT never
// committed, and the members are free to join any group.
const (
	// smallObjectBytes: objects up to this size may be grouped.
	smallObjectBytes = 1 << 20
	// groupMaxBytes and groupMaxObjects bound a group (about 100k records
	// for 5-minute files, one part of the engine's).
	groupMaxBytes   = 8 << 20
	groupMaxObjects = 64
)

// groupCommitted reports whether g's INSERT committed: its rows carry its
// id, within its start range (records without a start are stored at 0).
func groupCommitted(ctx context.Context, s store.Store, g ledger.Group) (bool, error) {
	var buf bytes.Buffer
	err := s.Query(ctx, &buf, `SELECT count() > 0 FROM flow_logs
WHERE (start BETWEEN toDateTime({from:Int64}) AND toDateTime({to:Int64}) OR start = toDateTime(0)) AND ingest_group = {id:String}`,
		"TSV", store.WithParams(map[string]string{
			"id": g.ID, "from": strconv.FormatInt(g.From.Unix(), 10), "to": strconv.FormatInt(g.To.Unix(), 10),
		}))
	if err != nil {
		return false, fmt.Errorf("ask flow_logs whether group %s was stored: %w", g.ID, err)
	}
	return strings.TrimSpace(buf.String()) == "1", nil
}

// recoverGroups finds the objects of fresh that belong to a group whose
// INSERT committed before a run ended (a crash between the INSERT and the
// ledger rows). A group whose members are all listed again comes back as
// a unit to insert again exactly as it was (same members, same order: same
// id and token): the table drops its rows as duplicates, and the rollup's
// materialized view, which a kill between the table's part and the view's
// could have left short, gets what it misses (verified: SIGKILL during a
// grouped ingest left 236,098 records out of the rollup until this).
// Members of a group that cannot be formed again are recorded as done (their
// rows are stored). It returns the other objects, and the groups to insert
// again.
func (i *Ingester) recoverGroups(ctx context.Context, fresh []sources.Object, sum *Summary) ([]sources.Object, []unit, error) {
	ids := make([]string, len(fresh))
	byID := make(map[string]sources.Object, len(fresh))
	for k, o := range fresh {
		ids[k] = sources.ID(o)
		byID[ids[k]] = o
	}
	groups, err := i.ledger.GroupsOf(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	taken := map[string]bool{}
	var again []unit
	var done []sources.Object
	for _, g := range groups {
		ok, err := groupCommitted(ctx, i.deps.Store, g)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			continue // never stored: its members may join any group
		}
		var members []sources.Object
		for _, id := range g.Members {
			if o, listed := byID[id]; listed && !taken[id] {
				members = append(members, o)
			}
		}
		for _, o := range members {
			taken[sources.ID(o)] = true
		}
		if len(members) == len(g.Members) {
			again = append(again, unit{objs: members, again: g.ID})
		} else {
			done = append(done, members...)
		}
	}
	if err := i.recordStoredByGroup(ctx, done, "", sum); err != nil {
		return nil, nil, err
	}
	out := fresh[:0:0]
	for k, o := range fresh {
		if !taken[ids[k]] {
			out = append(out, o)
		}
	}
	return out, again, nil
}

// recordStoredByGroup records objs as done: their rows were stored by a
// group (gid, when known) in an earlier run.
func (i *Ingester) recordStoredByGroup(ctx context.Context, objs []sources.Object, gid string, sum *Summary) error {
	if len(objs) == 0 {
		return nil
	}
	now := i.deps.Now()
	entries := make([]ledger.Entry, len(objs))
	for k, o := range objs {
		entries[k] = ledger.Entry{ID: sources.ID(o), URL: o.URL, Size: o.Size, StartedAt: now, FinishedAt: now}
	}
	if err := i.ledger.RecordMany(ctx, entries); err != nil {
		return err
	}
	for _, o := range objs {
		r := ObjectResult{URL: o.URL, ID: sources.ID(o), Format: "stored by an earlier group"}
		if gid != "" {
			r.Format = "stored by group " + gid
		}
		sum.add(r)
		if i.opts.OnObject != nil {
			i.opts.OnObject(r)
		}
	}
	return nil
}

// unit is what Run ingests in one go: a group of small objects, or one
// object. again names a committed group formed again (recoverGroups).
type unit struct {
	objs  []sources.Object
	again string
}

// planGroups splits objs, in order, into units: a group of consecutive
// small objects, or one object. Objects that an earlier run started alone
// (earlier) are never grouped: some of their streams may be stored, under
// their own tokens.
func planGroups(objs []sources.Object, earlier map[string][]string) []unit {
	var units []unit
	var cur []sources.Object
	var bytes int64
	flush := func() {
		if len(cur) > 0 {
			units = append(units, unit{objs: cur})
			cur, bytes = nil, 0
		}
	}
	for _, o := range objs {
		small := o.Size <= smallObjectBytes && !isParquet(o) && len(earlier[sources.ID(o)]) == 0
		if !small {
			flush()
			units = append(units, unit{objs: []sources.Object{o}})
			continue
		}
		if len(cur) == groupMaxObjects || bytes+o.Size > groupMaxBytes {
			flush()
		}
		cur = append(cur, o)
		bytes += o.Size
	}
	flush()
	return units
}

func isParquet(o sources.Object) bool {
	return strings.HasSuffix(strings.ToLower(o.Key), ".parquet") || strings.HasSuffix(strings.ToLower(o.URL), ".parquet")
}

// member is an object of a group, read whole.
type member struct {
	obj     sources.Object
	res     ObjectResult
	batches []*Batch
	started time.Time
}

// preparedGroup is a group read and staged, ready for its INSERT.
type preparedGroup struct {
	g     ledger.Group
	st    store.BlockStream // nil: fewer than two members could be read
	ok    []member
	alone []sources.Object // to be ingested one by one
	rows  int
}

// abort drops a prepared group that will not be committed.
func (p *preparedGroup) abort() {
	if p != nil && p.st != nil {
		p.st.Abort()
		p.st = nil
	}
}

// ingestGroup stores objs (small objects) in one INSERT. It returns the
// results of the objects it stored and recorded, and the objects it left
// to be ingested one by one (those it could not read cleanly, or all of
// them when the group could not be stored).
func (i *Ingester) ingestGroup(ctx context.Context, objs []sources.Object, w sources.Window) ([]ObjectResult, []sources.Object, error) {
	p, err := i.prepareGroup(ctx, objs, w)
	if err != nil {
		return nil, nil, err
	}
	return i.commitGroup(ctx, p)
}

// prepareGroup reads objs and stages their rows in one stream; the engine
// is not touched (an embedded stream is staged in memory until Close), so
// Run prepares the next group while the engine stores one.
func (i *Ingester) prepareGroup(ctx context.Context, objs []sources.Object, w sources.Window) (*preparedGroup, error) {
	// The members are read in parallel (their reads are independent), and
	// kept in listing order.
	read := make([]member, len(objs))
	readErr := make([]error, len(objs))
	readers, rctx := errgroup.WithContext(ctx)
	readers.SetLimit(runtime.GOMAXPROCS(0))
	for k, o := range objs {
		readers.Go(func() error {
			read[k], readErr[k] = i.readWhole(rctx, o, w)
			return nil
		})
	}
	_ = readers.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p := &preparedGroup{}
	for k, o := range objs {
		if readErr[k] != nil {
			p.alone = append(p.alone, o) // the single path reads it again and reports it
			continue
		}
		p.ok = append(p.ok, read[k])
	}
	if len(p.ok) < 2 {
		for _, m := range p.ok {
			p.alone = append(p.alone, m.obj)
		}
		p.ok = nil
		return p, nil
	}
	g := ledger.Group{ID: i.groupID(p.ok, w)}
	lo, hi := int64(0), int64(0)
	for _, m := range p.ok {
		g.Members = append(g.Members, m.res.ID)
		for _, b := range m.batches {
			p.rows += b.Rows()
			if from, to, ok := startRange(b); ok {
				if lo == 0 || from.Unix() < lo {
					lo = from.Unix()
				}
				hi = max(hi, to.Unix())
			}
		}
	}
	g.From, g.To = time.Unix(lo, 0), time.Unix(hi, 0)
	p.g = g
	// One part, all or nothing: the engine squashes the stream into one
	// block of all its rows.
	n := strconv.Itoa(max(p.rows, 1))
	st, err := i.deps.Store.InsertStream(ctx, "flow_logs", g.ID, store.WithSettings(map[string]string{
		"min_insert_block_size_rows": n, "max_insert_block_size": n, "min_insert_block_size_bytes": strconv.Itoa(1 << 40),
	}))
	if err != nil {
		return nil, err
	}
	attributed, _ := i.pools.attrs.Get().(*Attribution)
	if attributed == nil {
		attributed = NewAttribution()
	}
	defer i.pools.attrs.Put(attributed)
	for k, m := range p.ok {
		loc := sources.Location(m.obj)
		for _, b := range m.batches {
			var idx *pods.Index
			if from, to, ok := startRange(b); ok {
				idx = i.deps.Index(ctx, from, to)
			}
			if err := st.Send(i.attr.AttributeGroup(b, loc, g.ID, idx, attributed)); err != nil {
				st.Abort()
				return nil, err
			}
		}
		p.ok[k].batches = nil // sent: the memory can go
	}
	p.st = st
	return p, nil
}

// commitGroup records p, inserts it and records its members as done (see
// ingestGroup for what it returns).
func (i *Ingester) commitGroup(ctx context.Context, p *preparedGroup) ([]ObjectResult, []sources.Object, error) {
	alone := p.alone
	if p.st == nil {
		return nil, alone, nil
	}
	ok, g := p.ok, p.g
	stored, err := i.storeGroup(ctx, p)
	var uc *unknownCommit
	if errors.As(err, &uc) {
		// Whether the rows are stored is unknown: the members are left
		// not done, and the next run asks flow_logs (recoverGroups).
		results := make([]ObjectResult, len(ok))
		for k, m := range ok {
			results[k] = m.res
			results[k].Stored = 0
			results[k].Error = fmt.Sprintf("%v; the next run finds out whether group %s was stored", uc.err, g.ID)
			i.m.objects.WithLabelValues("failed").Inc()
		}
		return results, alone, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if !stored {
		for _, m := range ok {
			alone = append(alone, m.obj)
		}
		return nil, alone, nil
	}
	now := i.deps.Now()
	entries := make([]ledger.Entry, len(ok))
	results := make([]ObjectResult, len(ok))
	for k, m := range ok {
		m.res.Seconds = now.Sub(m.started).Seconds()
		m.res.Attempts = 1
		entries[k] = ledger.Entry{ID: m.res.ID, URL: m.obj.URL, Size: m.obj.Size, Read: m.res.Read, Stored: m.res.Stored,
			Rejected: m.res.Rejected, FirstErrors: m.res.Errors, StartedAt: m.started, FinishedAt: now}
		results[k] = m.res
	}
	if err := i.ledger.RecordMany(ctx, entries); err != nil {
		// The rows are stored: the next run finds the group and records
		// its members (recoverGroups).
		for k := range results {
			results[k].Error = err.Error()
			i.m.objects.WithLabelValues("failed").Inc()
		}
		return results, alone, nil
	}
	for range results {
		i.m.objects.WithLabelValues("ingested").Inc()
	}
	return results, alone, nil
}

// groupID names a group after its members and the geometry that decides
// its rows.
func (i *Ingester) groupID(ms []member, w sources.Window) string {
	h := sha256.New()
	for _, m := range ms {
		io.WriteString(h, m.res.ID)
		h.Write([]byte{0})
	}
	io.WriteString(h, i.token("", 0, w))
	return "group:" + hex.EncodeToString(h.Sum(nil)[:16])
}

// storeGroup records p's group and runs its INSERT. stored is false when
// the INSERT did not commit (its members are then ingested one by one).
func (i *Ingester) storeGroup(ctx context.Context, p *preparedGroup) (stored bool, err error) {
	g, st := p.g, p.st
	p.st = nil
	if err := i.ledger.RecordGroup(ctx, g); err != nil {
		st.Abort()
		return false, err
	}
	if cerr := st.Close(); cerr != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		i.wm.Failed("flow_logs")
		// An INSERT can fail after its part committed (a materialized
		// view failing after the table's part): ask.
		committed, err := groupCommitted(ctx, i.deps.Store, g)
		if err != nil {
			return false, &unknownCommit{errors.Join(cerr, err)}
		}
		i.deps.Logger.WarnContext(ctx, "group of small objects not stored as one insert", "objects", len(p.ok), "committed", committed, "err", cerr)
		return committed, nil
	}
	i.wm.Inserted("flow_logs", len(p.ok), p.rows)
	return true, nil
}

// unknownCommit: a group's INSERT failed, and flow_logs could not be
// asked whether its part committed.
type unknownCommit struct{ err error }

func (e *unknownCommit) Error() string { return e.err.Error() }
func (e *unknownCommit) Unwrap() error { return e.err }

// readWhole reads a small object into batches of its own, checked whole.
func (i *Ingester) readWhole(ctx context.Context, obj sources.Object, w sources.Window) (member, error) {
	m := member{obj: obj, started: i.deps.Now(), res: ObjectResult{URL: obj.URL, ID: sources.ID(obj)}}
	rd, closeObj, checked, err := i.open(ctx, obj)
	if err != nil {
		return m, err
	}
	defer closeObj()
	defer rd.Close()
	m.res.Format = string(rd.Format())
	for {
		b := NewBatch()
		n, err := rd.Next(b)
		n = keepWindow(b, n, w, &m.res)
		if n > 0 {
			m.batches = append(m.batches, b)
			m.res.Stored += int64(n)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return m, err
		}
	}
	if err := <-checked; err != nil {
		return m, err
	}
	st := rd.Stats()
	m.res.Read, m.res.Rejected = st.Read, st.Rejected
	for _, e := range st.Errors {
		m.res.Errors = append(m.res.Errors, e.Error())
	}
	return m, nil
}

// storedRows counts the rows of flow_logs read from any of locations.
func storedRows(ctx context.Context, s store.Store, locations []string) (int64, error) {
	var buf bytes.Buffer
	err := s.Query(ctx, &buf, "SELECT count() FROM flow_logs WHERE source IN {locs:Array(String)}", "TSV",
		store.WithParams(map[string]string{"locs": chsql.QuoteStrings(locations)}))
	if err != nil {
		return 0, fmt.Errorf("count the rows already stored: %w", err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(buf.String()), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("count the rows already stored: %w", err)
	}
	return n, nil
}
