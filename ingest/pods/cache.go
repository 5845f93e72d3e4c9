package pods

import (
	"context"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/furrowdev/furrow/store"
)

// Defaults of IndexCache.
const (
	// DefaultIndexMargin is loaded on both sides of the times asked for,
	// so that the next blocks of a backlog (later times) are usually
	// covered already: a window is extended once per margin of flow time,
	// not once per block.
	DefaultIndexMargin = time.Hour
	// DefaultIndexSpan bounds the window kept: beyond it, the intervals
	// farthest from the times asked for are evicted. A window holds the
	// intervals open at its time plus its span of churn: a day of the
	// 90-day, 10M-interval benchmark history is 310k records and 115 MB
	// of heap, against 1.7 GB for all of it (docs/ingest-pods.md).
	DefaultIndexSpan = 12 * time.Hour
	// changedSlack is how far before the newest version seen the next
	// look for changed records starts: a writer takes its version (its
	// clock) before its insert lands, so a record may become visible with
	// a version a little older than one already read.
	changedSlack = time.Minute
)

// IndexCache keeps an index of the pod history around the times a flow
// ingest attributes, not of the whole history: with 8 clusters and months
// of churn the whole history is unbounded (10M intervals: 1.7 GB of heap
// and 65 s to load, against 115 MB and 2.5 s for a day of them). It holds the latest version of every record
// overlapping its window [lo, hi) and builds the Index from them.
//
//   - A request for times outside the window extends it by loading only
//     the missing range (the records starting after hi, or those ending
//     before lo), plus a margin. A request far from the window (more than
//     a span away) loads a new window.
//   - The window never grows beyond the span plus what the request needs:
//     records no longer overlapping it are evicted.
//   - At most every MinCheck, it checks whether the stored history changed
//     (row counts and newest updated_at). New versions (intervals opened or
//     closed by the watchers, snapshots ingested) are loaded by their
//     version, and replace the records of the same key; rows that appear
//     with no newer version (rare) reload the window.
//
// For every time inside the window, the index answers exactly as one
// built from the whole history.
type IndexCache struct {
	s        store.Store
	minCheck time.Duration
	logger   *slog.Logger
	margin   time.Duration
	span     time.Duration

	mu      sync.Mutex
	idx     *Index
	w       window
	pods    map[recordKey]podRec
	nodes   []NodeInfo
	in      interner
	ver     historyVersion
	checked time.Time
	stats   IndexCacheStats
}

// IndexCacheStats says what an IndexCache did, for tests and benchmarks.
type IndexCacheStats struct {
	// WindowLoads counts the windows loaded whole, Extensions the loads of
	// a missing range only, Refreshes the loads of changed records.
	WindowLoads, Extensions, Refreshes int
	// PodRowsLoaded counts the pod_ips rows read by all of them.
	PodRowsLoaded int
	// Evicted counts the records dropped because they left the window.
	Evicted int
	// Records is the number of pod records held now; From and To are the
	// window (zero for an open side).
	Records  int
	From, To time.Time
}

// NewIndexCache returns a cache that loads on first use, with the default
// margin and span.
func NewIndexCache(s store.Store, minCheck time.Duration, logger *slog.Logger) *IndexCache {
	if logger == nil {
		logger = slog.Default()
	}
	return &IndexCache{s: s, minCheck: minCheck, logger: logger, margin: DefaultIndexMargin, span: DefaultIndexSpan}
}

// SetWindow changes the margin loaded around the times asked for and the
// span beyond which intervals are evicted (see IndexCache); zero keeps the
// default.
func (c *IndexCache) SetWindow(margin, span time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if margin > 0 {
		c.margin = margin
	}
	if span > 0 {
		c.span = span
	}
}

// Stats returns what the cache did so far.
func (c *IndexCache) Stats() IndexCacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.stats
	st.Records = len(c.pods)
	st.From, st.To = windowTime(c.w.lo), windowTime(c.w.hi)
	return st
}

func windowTime(ms int64) time.Time {
	if ms == math.MinInt64 || ms == math.MaxInt64 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// Index returns an index that answers for every time in [from, to] as one
// built from the whole stored history would, loading what it lacks. A zero
// from or to leaves that side open (the whole history on that side). On a
// load error it keeps the previous index (nil before the first success:
// flows are then left unattributed) and logs.
func (c *IndexCache) Index(ctx context.Context, from, to time.Time) *Index {
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if !from.IsZero() {
		lo = from.UnixMilli()
	}
	if !to.IsZero() {
		hi = to.UnixMilli() + 1 // to is included
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	check := c.idx == nil || time.Since(c.checked) >= c.minCheck
	if !check && c.w.covers(lo, hi) {
		return c.idx
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
	defer cancel()
	start := time.Now()
	if err := c.update(ctx, window{lo, hi}, check); err != nil {
		c.logger.Error("pod index: load", "err", err)
		return c.idx
	}
	c.logger.Debug("pod index updated", "took", time.Since(start), "records", len(c.pods),
		"from", windowTime(c.w.lo), "to", windowTime(c.w.hi))
	return c.idx
}

// update brings the window to cover req (plus the margin) and up to date
// with the stored history when check is set, then rebuilds the index if
// anything changed. The loads run before the records change; an error
// after that (in the build) makes the next call load a new window.
func (c *IndexCache) update(ctx context.Context, req window, check bool) error {
	// The version is read before the loads, so that a record written
	// during them is loaded again at the next check, never missed.
	ver := c.ver
	reload := c.idx == nil || c.pods == nil
	changedSince := int64(-1)
	nodesChanged := false
	if check {
		v, err := readHistoryVersion(ctx, c.s)
		if err != nil {
			return err
		}
		ver = v
		switch {
		case reload:
		case v.podMax > c.ver.podMax:
			changedSince = c.ver.podMax - changedSlack.Milliseconds()
		case v.podCount > c.ver.podCount:
			// Rows with no version newer than the newest seen: only a
			// reload is sure to find them.
			reload = true
		}
		// A count that only went down is a merge of versions already
		// read: nothing to load.
		nodesChanged = v.nodeMax != c.ver.nodeMax || v.nodeCount > c.ver.nodeCount
	}

	m, span := c.margin.Milliseconds(), c.span.Milliseconds()
	around := window{satSub(req.lo, m), satAdd(req.hi, m)}
	next := c.w
	if !reload && !c.w.covers(req.lo, req.hi) {
		// Only the side that needs it is extended, to the margin, so
		// that a backlog extends the window once per margin of flow time.
		if req.lo < c.w.lo {
			next.lo = around.lo
		}
		if req.hi > c.w.hi {
			next.hi = around.hi
		}
		// Far from the window, the gap would cost more than a new window.
		if satSub(around.lo, span) > c.w.hi || satAdd(around.hi, span) < c.w.lo {
			reload = true
		}
	}
	if reload {
		next = around
	}

	in, stats := c.in, c.stats
	var rows []podRow
	pods := c.pods
	if reload {
		in = newInterner()
		r, err := loadPodRows(ctx, c.s, podWindowQuery, map[string]int64{"lo": next.lo, "hi": next.hi}, in)
		if err != nil {
			return err
		}
		pods = make(map[recordKey]podRec, len(r))
		for _, row := range r {
			pods[row.key] = row.rec
		}
		stats.WindowLoads++
		stats.PodRowsLoaded += len(r)
	} else if next != c.w {
		if next.lo < c.w.lo {
			r, err := loadPodRows(ctx, c.s, podEarlierQuery, map[string]int64{"lo": next.lo, "hi": c.w.lo}, in)
			if err != nil {
				return err
			}
			rows = append(rows, r...)
		}
		if next.hi > c.w.hi {
			r, err := loadPodRows(ctx, c.s, podLaterQuery, map[string]int64{"lo": c.w.hi, "hi": next.hi}, in)
			if err != nil {
				return err
			}
			rows = append(rows, r...)
		}
		stats.Extensions++
	}
	if changedSince >= 0 && !reload {
		r, err := loadPodRows(ctx, c.s, podChangedQuery, map[string]int64{"since": changedSince, "hi": next.hi}, in)
		if err != nil {
			return err
		}
		rows = append(rows, r...)
		stats.Refreshes++
	}
	stats.PodRowsLoaded += len(rows)
	// Beyond the span, the side away from the times asked for is evicted.
	if !reload && next.hi-next.lo > span && next.lo != math.MinInt64 && next.hi != math.MaxInt64 {
		switch {
		case req.hi > c.w.hi:
			next.lo = max(next.lo, min(around.lo, next.hi-span))
		case req.lo < c.w.lo:
			next.hi = min(next.hi, max(around.hi, next.lo+span))
		}
	}
	nodes := c.nodes
	if reload || nodesChanged || next != c.w {
		n, err := loadNodeRows(ctx, c.s, next, in)
		if err != nil {
			return err
		}
		nodes = n
	}
	if !reload && len(rows) == 0 && next == c.w && !nodesChanged {
		c.ver, c.checked = ver, time.Now()
		return nil
	}

	// Apply the rows (latest versions, in load order) and evict.
	for _, r := range rows {
		if next.overlaps(r.key.from, r.rec.to) {
			pods[r.key] = r.rec
		} else {
			delete(pods, r.key) // closed before the window, or left it
		}
	}
	evicted := 0
	if next != c.w {
		for k, r := range pods {
			if !next.overlaps(k.from, r.to) {
				delete(pods, k)
				evicted++
			}
		}
	}
	if evicted > 0 && !reload {
		// The interner shares the strings of records that may be gone:
		// a new one keeps it from growing with a long backlog.
		in = newInterner()
	}
	stats.Evicted += evicted
	idx, err := buildWindowIndex(ctx, c.s, pods, nodes)
	if err != nil {
		// The records changed already: the next call starts afresh,
		// and until then the previous index serves.
		c.pods, c.w = nil, window{}
		return err
	}
	c.idx, c.w, c.pods, c.nodes, c.in, c.ver, c.checked, c.stats = idx, next, pods, nodes, in, ver, time.Now(), stats
	return nil
}

func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func satSub(a, b int64) int64 {
	if a < math.MinInt64+b {
		return math.MinInt64
	}
	return a - b
}
