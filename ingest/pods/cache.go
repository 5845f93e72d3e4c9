package pods

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/furrowdev/furrow/store"
)

// IndexCache keeps the pod index of the stored history current for a
// long-running ingest: it reloads the Index only when pod_ips or k8s_nodes
// changed (their row count and newest updated_at), checking at most every
// MinCheck. Reloading the whole history costs ~2 s per million intervals, so
// it is not done on every object.
type IndexCache struct {
	s        store.Store
	minCheck time.Duration
	logger   *slog.Logger

	mu      sync.Mutex
	idx     *Index
	version string
	checked time.Time
}

// NewIndexCache returns a cache that loads on first use.
func NewIndexCache(s store.Store, minCheck time.Duration, logger *slog.Logger) *IndexCache {
	if logger == nil {
		logger = slog.Default()
	}
	return &IndexCache{s: s, minCheck: minCheck, logger: logger}
}

// Index returns the current index, reloading it if the stored history
// changed since the last check. On a load error it keeps the previous index
// (nil before the first success: flows are then left unattributed) and logs.
func (c *IndexCache) Index() *Index {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.idx != nil && time.Since(c.checked) < c.minCheck {
		return c.idx
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c.checked = time.Now()
	var buf bytes.Buffer
	err := c.s.Query(ctx, &buf, `SELECT (SELECT (count(), max(updated_at)) FROM `+PodIPsTable+`), (SELECT (count(), max(updated_at)) FROM `+NodesTable+`)`, "TSV")
	if err != nil {
		c.logger.Error("pod index: check stored history", "err", err)
		return c.idx
	}
	v := buf.String()
	if c.idx != nil && v == c.version {
		return c.idx
	}
	start := time.Now()
	idx, err := LoadIndex(ctx, c.s, time.Time{}, time.Time{})
	if err != nil {
		c.logger.Error("pod index: load", "err", err)
		return c.idx
	}
	c.idx, c.version = idx, v
	c.logger.Debug("pod index loaded", "took", time.Since(start))
	return c.idx
}
