package sqlapi

import (
	"container/list"
	"sort"
	"strings"
	"sync"
)

// planCache remembers the plans of recent statements. Preparing a
// statement costs two engine round trips (canonicalize, EXPLAIN AST) before
// the query itself; dashboards send the same statements again and again,
// and on the embedded engine each round trip may wait behind an ingest's
// insert. A plan depends only on the text and the parameters (neither
// step reads a table), so it can be reused as is.
type planCache struct {
	mu    sync.Mutex
	max   int
	order *list.List // front: most recent; values are *cached
	byKey map[string]*list.Element
}

type cached struct {
	key string
	p   plan
}

// planCacheSize bounds the cache: plans are a few hundred bytes.
const planCacheSize = 512

func newPlanCache(max int) *planCache {
	return &planCache{max: max, order: list.New(), byKey: map[string]*list.Element{}}
}

// planKey is the statement and its parameters: an {x:Identifier}
// parameter names a table, so it is part of what was checked.
func planKey(sql string, params map[string]string) string {
	if len(params) == 0 {
		return sql
	}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(sql)
	for _, k := range keys {
		b.WriteByte(0)
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(params[k])
	}
	return b.String()
}

func (c *planCache) get(key string) (plan, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[key]
	if !ok {
		return plan{}, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*cached).p, true
}

func (c *planCache) put(key string, p plan) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[key]; ok {
		e.Value.(*cached).p = p
		c.order.MoveToFront(e)
		return
	}
	c.byKey[key] = c.order.PushFront(&cached{key, p})
	for c.order.Len() > c.max {
		old := c.order.Back()
		c.order.Remove(old)
		delete(c.byKey, old.Value.(*cached).key)
	}
}
