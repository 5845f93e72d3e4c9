package traffic

import (
	"strconv"
	"time"
)

func (c Comparison) grid(human bool) grid {
	g := grid{numeric: []bool{false, true, true, true, true}}
	if human {
		g.header = []string{"METRIC", "BEFORE", "AFTER", "CHANGE", "CHANGE %"}
	} else {
		g.header = []string{"metric", "before", "after", "change", "change_pct"}
	}
	cl := c.Classes
	b, a := c.Before, c.After
	window := func(s Side) string {
		if s.Days == 0 {
			return "-"
		}
		const f = "2006-01-02 15:04"
		return s.From.Format(f) + " – " + s.To.Format(f)
	}
	changePct := func(ch Change) string {
		if ch.Pct == nil {
			return "-"
		}
		if human {
			return strconv.FormatFloat(*ch.Pct, 'f', 1, 64) + "%"
		}
		return num(*ch.Pct)
	}
	if human {
		days := func(s Side) string { return strconv.FormatFloat(s.Days, 'f', 2, 64) }
		g.rows = [][]string{
			{"window (UTC)", window(b), window(a), "", ""},
			{"days", days(b), days(a), "", ""},
			{"total GB", gb(b.TotalBytes), gb(a.TotalBytes), "", ""},
			{cl + " GB", gb(b.ClassBytes), gb(a.ClassBytes), "", ""},
			{cl + " GB/day", gb(b.ClassBytesPerDay), gb(a.ClassBytesPerDay), gb(c.ClassBytesPerDay.Abs), changePct(c.ClassBytesPerDay)},
			{cl + " share", pct(b.ClassShare), pct(a.ClassShare), strconv.FormatFloat(c.ClassShare.Abs*100, 'f', 1, 64) + " pp", changePct(c.ClassShare)},
			{cl + " cost/day", usd(b.CostPerDay), usd(a.CostPerDay), usd(c.CostPerDay.Abs), changePct(c.CostPerDay)},
		}
		return g
	}
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Format(time.RFC3339)
	}
	g.rows = [][]string{
		{"from", ts(b.From), ts(a.From), "", ""},
		{"to", ts(b.To), ts(a.To), "", ""},
		{"days", num(b.Days), num(a.Days), "", ""},
		{"total_bytes", num(b.TotalBytes), num(a.TotalBytes), num(a.TotalBytes - b.TotalBytes), changePct(change(b.TotalBytes, a.TotalBytes))},
		{"class_bytes", num(b.ClassBytes), num(a.ClassBytes), num(a.ClassBytes - b.ClassBytes), changePct(change(b.ClassBytes, a.ClassBytes))},
		{"class_bytes_per_day", num(b.ClassBytesPerDay), num(a.ClassBytesPerDay), num(c.ClassBytesPerDay.Abs), changePct(c.ClassBytesPerDay)},
		{"class_share", num(b.ClassShare), num(a.ClassShare), num(c.ClassShare.Abs), changePct(c.ClassShare)},
		{"cost_usd", num(b.CostUSD), num(a.CostUSD), num(a.CostUSD - b.CostUSD), changePct(change(b.CostUSD, a.CostUSD))},
		{"cost_per_day", num(b.CostPerDay), num(a.CostPerDay), num(c.CostPerDay.Abs), changePct(c.CostPerDay)},
	}
	return g
}
