package traffic

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// DefaultWindow is the length of each side of a before/after comparison.
const DefaultWindow = 7 * 24 * time.Hour

// Side is one side of a before/after comparison. "Class" is the filter's
// classes (cross-zone by default); totals are over every class.
type Side struct {
	// From and To are the side's window after clipping to the data.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Days is the window's length in days (fractional; 0 when empty).
	Days float64 `json:"days"`
	// TotalBytes are transfer bytes of every class.
	TotalBytes float64 `json:"total_bytes"`
	// ClassBytes are transfer bytes of the filter's classes.
	ClassBytes float64 `json:"class_bytes"`
	// ClassShare is ClassBytes / TotalBytes (0 without traffic).
	ClassShare float64 `json:"class_share"`
	// ClassBytesPerDay is ClassBytes / Days.
	ClassBytesPerDay float64 `json:"class_bytes_per_day"`
	// CostUSD is the cost of the filter's classes.
	CostUSD float64 `json:"cost_usd"`
	// CostPerDay is CostUSD / Days.
	CostPerDay float64 `json:"cost_per_day"`
}

// Change compares an after value with a before value.
type Change struct {
	// Abs is after − before (for shares: in share points, 0..1).
	Abs float64 `json:"abs"`
	// Pct is Abs / before × 100; nil when before is 0.
	Pct *float64 `json:"pct"`
}

func change(before, after float64) Change {
	c := Change{Abs: after - before}
	if before != 0 {
		p := c.Abs / before * 100
		c.Pct = &p
	}
	return c
}

// Comparison is a before/after report. Rates per day make sides of
// different lengths (after clipping) comparable.
type Comparison struct {
	// Classes names the filter's classes ("cross-zone").
	Classes string `json:"classes"`
	// At is the change's time, rounded down to the hour.
	At     time.Time `json:"at"`
	Before Side      `json:"before"`
	After  Side      `json:"after"`
	// The changes of the per-day rates and of the share.
	ClassBytesPerDay Change `json:"class_bytes_per_day_change"`
	ClassShare       Change `json:"class_share_change"`
	CostPerDay       Change `json:"cost_per_day_change"`
}

// BeforeAfter compares the window before at with the window after it
// (window per side, DefaultWindow when 0), each clipped to the hours the
// rollup holds for f and to f.From/f.To. Narrow f to the namespace or
// workload that changed (locality LB, Topology Aware Routing).
func (r *Reports) BeforeAfter(ctx context.Context, f Filter, at time.Time, window time.Duration) (Comparison, error) {
	if err := f.validate(); err != nil {
		return Comparison{}, err
	}
	if at.IsZero() {
		return Comparison{}, fmt.Errorf("%w: a before/after report needs the time of the change (at)", ErrBadFilter)
	}
	if window < 0 {
		return Comparison{}, fmt.Errorf("%w: window must be positive", ErrBadFilter)
	}
	if window == 0 {
		window = DefaultWindow
	}
	at = at.UTC().Truncate(time.Hour)
	c := Comparison{Classes: f.ClassLabel(), At: at}
	lo, hi, ok, err := r.bounds(ctx, f)
	if err != nil || !ok {
		return c, err
	}
	bf, bt := clip(at.Add(-window), at, lo, hi)
	af, at2 := clip(at, at.Add(window), lo, hi)
	c.Before = Side{From: bf, To: bt}
	c.After = Side{From: af, To: at2}
	if err := r.fillSides(ctx, f, &c); err != nil {
		return Comparison{}, err
	}
	for _, s := range []*Side{&c.Before, &c.After} {
		if s.To.After(s.From) {
			s.Days = s.To.Sub(s.From).Hours() / 24
			s.ClassBytesPerDay = s.ClassBytes / s.Days
			s.CostPerDay = s.CostUSD / s.Days
		} else {
			s.From, s.To = time.Time{}, time.Time{}
		}
		if s.TotalBytes > 0 {
			s.ClassShare = s.ClassBytes / s.TotalBytes
		}
	}
	c.ClassBytesPerDay = change(c.Before.ClassBytesPerDay, c.After.ClassBytesPerDay)
	c.ClassShare = change(c.Before.ClassShare, c.After.ClassShare)
	c.CostPerDay = change(c.Before.CostPerDay, c.After.CostPerDay)
	return c, nil
}

// fillSides sums both sides in one pass over the rollup.
func (r *Reports) fillSides(ctx context.Context, f Filter, c *Comparison) error {
	from, to := c.Before.From, c.After.To
	if !c.Before.To.After(from) {
		from = c.After.From
	}
	if !c.After.To.After(c.After.From) {
		to = c.Before.To
	}
	if !to.After(from) {
		return nil
	}
	p := newParams()
	f.apply(p, filterOpts{timeCol: "hour", from: from, to: to, allClasses: true})
	classCond := "1"
	if cs := f.classes(); cs != nil {
		ph := make([]string, len(cs))
		for i, cl := range cs {
			ph[i] = p.str(fmt.Sprintf("class%d", i), cl)
		}
		classCond = "traffic_class IN (" + strings.Join(ph, ", ") + ")"
	}
	q := `SELECT if(hour < ` + p.time("at", c.At) + `, 'before', 'after') AS side,
  round(sum(transfer_bytes)) AS total_bytes,
  round(sumIf(transfer_bytes, ` + classCond + `)) AS class_bytes,
  round(sumIf(cost_usd, ` + classCond + `), 9) AS cost_usd
FROM ` + rollupFrom(p, from, to, c.At) + `
WHERE ` + p.sql() + `
GROUP BY side`
	rows, err := queryRows[struct {
		Side       string  `json:"side"`
		TotalBytes float64 `json:"total_bytes"`
		ClassBytes float64 `json:"class_bytes"`
		CostUSD    float64 `json:"cost_usd"`
	}](ctx, r.s, q, p)
	if err != nil {
		return fmt.Errorf("before/after: %w", err)
	}
	for _, row := range rows {
		s := &c.After
		if row.Side == "before" {
			s = &c.Before
		}
		s.TotalBytes, s.ClassBytes, s.CostUSD = row.TotalBytes, row.ClassBytes, row.CostUSD
	}
	return nil
}
