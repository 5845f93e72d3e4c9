package traffic

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// section is one titled part of the cross-zone report.
type section struct {
	key   string // JSON field
	title string
	res   Result
}

// CrossZoneReport writes the report `furrow report cross-zone` prints: top
// namespace, workload and zone pairs, cost per day and, when f names a
// namespace or workload and has At, before/after At. Tables and CSV get one
// section after another, each under a "== title ==" (table) or "# title"
// (CSV) line; JSON gets one object keyed by section.
func (r *Reports) CrossZoneReport(ctx context.Context, w io.Writer, f Filter, format string) error {
	format, err := ParseFormat(format)
	if err != nil {
		return err
	}
	var secs []section
	rankings := f.Rankings
	if len(rankings) == 0 {
		rankings = []By{ByNamespace, ByWorkload, ByZone}
	}
	for _, by := range rankings {
		if _, err := ParseBy(string(by)); err != nil {
			return err
		}
		t, err := r.TopTalkers(ctx, f, by)
		if err != nil {
			return err
		}
		secs = append(secs, section{"top_" + string(by) + "s", "Top " + string(by) + " pairs", t})
	}
	days, err := r.CostPerDay(ctx, f)
	if err != nil {
		return err
	}
	secs = append(secs, section{"cost_per_day", "Cost per day", days})
	if !f.At.IsZero() && (f.Namespace != "" || f.Workload != "") {
		c, err := r.BeforeAfter(ctx, f, f.At, f.Window)
		if err != nil {
			return err
		}
		secs = append(secs, section{"before_after", "Before/after " + c.At.Format("2006-01-02 15:04") + " UTC", c})
	}

	if format == FormatJSON {
		out := map[string]any{"filter": describe(f)}
		for _, s := range secs {
			out[s.key] = s.res
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	scope := describe(f).String()
	for i, s := range secs {
		var head string
		if format == FormatCSV {
			head = "# " + s.title + " (" + scope + ")\n"
		} else {
			head = "== " + s.title + " (" + scope + ") ==\n"
		}
		if i > 0 {
			head = "\n" + head
		}
		if _, err := io.WriteString(w, head); err != nil {
			return err
		}
		if err := Render(w, s.res, format); err != nil {
			return err
		}
	}
	return nil
}

// scope describes a Filter in a report.
type scope struct {
	Classes   string `json:"classes"`
	From      string `json:"from,omitempty"`
	To        string `json:"to,omitempty"`
	Cluster   string `json:"cluster,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Workload  string `json:"workload,omitempty"`
}

func describe(f Filter) scope {
	s := scope{Classes: f.ClassLabel(), Cluster: f.Cluster, Namespace: f.Namespace, Workload: f.Workload}
	if !f.From.IsZero() {
		s.From = f.From.UTC().Format(time.RFC3339)
	}
	if !f.To.IsZero() {
		s.To = f.To.UTC().Format(time.RFC3339)
	}
	return s
}

func (s scope) String() string {
	parts := []string{s.Classes}
	switch {
	case s.From != "" && s.To != "":
		parts = append(parts, s.From+" – "+s.To)
	case s.From != "":
		parts = append(parts, "from "+s.From)
	case s.To != "":
		parts = append(parts, "until "+s.To)
	default:
		parts = append(parts, "all time")
	}
	for _, kv := range [][2]string{{"cluster", s.Cluster}, {"namespace", s.Namespace}, {"workload", s.Workload}} {
		if kv[1] != "" {
			parts = append(parts, fmt.Sprintf("%s=%s", kv[0], kv[1]))
		}
	}
	return strings.Join(parts, ", ")
}
