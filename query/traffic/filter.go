package traffic

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/furrowdev/furrow/internal/flowclass"
)

// ErrBadFilter wraps every validation failure of a Filter or report option,
// so the HTTP layer can answer 400 instead of 500.
var ErrBadFilter = errors.New("bad filter")

// ClassAll in Filter.Classes selects every class (internal/flowclass names
// the classes themselves, as the ingest writes them).
const ClassAll = "all"

// KnownClasses lists the classes a Filter accepts (besides ClassAll).
var KnownClasses = flowclass.All

// DefaultLimit and MaxLimit bound the rows of ranked reports.
const (
	DefaultLimit = 20
	MaxLimit     = 10000
)

// Filter selects the traffic a report covers. The zero Filter is all time,
// all clusters, cross-zone traffic, DefaultLimit rows.
type Filter struct {
	// From and To bound the window [From, To); zero means unbounded.
	From, To time.Time
	// Cluster, Namespace and Workload match either end of a flow, so a
	// namespace's report includes what it sends and what it receives.
	Cluster, Namespace, Workload string
	// Classes are traffic classes; empty means cross-zone (ZoneSkew: all
	// classes), ClassAll means every class.
	Classes []string
	// Limit caps ranked reports (top talkers, zone skew workloads); 0 means
	// DefaultLimit.
	Limit int
	// Rankings are the top-talker groupings of CrossZoneReport (default
	// namespace, workload, zone).
	Rankings []By
	// At and Window make CrossZoneReport add a before/after section around
	// At (Window per side, 0 means DefaultWindow); the other reports ignore
	// them.
	At     time.Time
	Window time.Duration
}

// validate checks the Filter without touching the store.
func (f Filter) validate() error {
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return fmt.Errorf("%w: from (%s) must be before to (%s)", ErrBadFilter,
			f.From.UTC().Format(time.RFC3339), f.To.UTC().Format(time.RFC3339))
	}
	if f.Limit < 0 || f.Limit > MaxLimit {
		return fmt.Errorf("%w: limit must be between 1 and %d", ErrBadFilter, MaxLimit)
	}
	for _, c := range f.Classes {
		if c != ClassAll && !slices.Contains(KnownClasses, c) {
			return fmt.Errorf("%w: unknown traffic class %q; use one of %s or %s",
				ErrBadFilter, c, strings.Join(KnownClasses, ", "), ClassAll)
		}
	}
	return nil
}

// classes is the filter's class list after defaults; nil means all classes.
func (f Filter) classes() []string {
	if len(f.Classes) == 0 {
		return []string{flowclass.CrossZone}
	}
	if slices.Contains(f.Classes, ClassAll) {
		return nil
	}
	return f.Classes
}

// ClassLabel names the filter's classes for headings ("cross-zone",
// "cross-zone+nat-gateway", "all").
func (f Filter) ClassLabel() string {
	c := f.classes()
	if c == nil {
		return ClassAll
	}
	return strings.Join(c, "+")
}

func (f Filter) limit() int {
	if f.Limit == 0 {
		return DefaultLimit
	}
	return f.Limit
}

// params collects query parameters and the WHERE conditions that use them.
type params struct {
	values map[string]string
	conds  []string
}

func newParams() *params { return &params{values: map[string]string{}} }

// add binds value to name and returns the placeholder {name:typ}.
func (p *params) add(name, typ, value string) string {
	p.values[name] = value
	return "{" + name + ":" + typ + "}"
}

// str binds a String parameter, escaping it into ClickHouse's escaped text
// form (the form query parameters are parsed in).
func (p *params) str(name, value string) string {
	return p.add(name, "String", escapeParam(value))
}

// time binds t as a UTC DateTime expression.
func (p *params) time(name string, t time.Time) string {
	return "toDateTime(" + p.add(name, "Int64", strconv.FormatInt(t.Unix(), 10)) + ", 'UTC')"
}

func (p *params) where(cond string) { p.conds = append(p.conds, cond) }

// sql is the WHERE expression ("1" when there is no condition).
func (p *params) sql() string {
	if len(p.conds) == 0 {
		return "1"
	}
	return strings.Join(p.conds, "\n  AND ")
}

// escapeParam writes s in the escaped text format: backslash, tab, newline
// and carriage return are backslash-escaped.
func escapeParam(s string) string {
	if !strings.ContainsAny(s, "\\\t\n\r") {
		return s
	}
	r := strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`)
	return r.Replace(s)
}

// filterOpts says which Filter fields a query applies.
type filterOpts struct {
	timeCol    string // "hour" on the rollup, "start" on flow_logs
	from, to   time.Time
	allClasses bool // ignore Filter.Classes (for totals)
}

// apply adds the Filter's conditions to p. Time bounds come from o, so
// callers can narrow them (before/after sides).
func (f Filter) apply(p *params, o filterOpts) {
	if !o.from.IsZero() {
		p.where(o.timeCol + " >= toStartOfHour(" + p.time("from", o.from) + ")")
	}
	if !o.to.IsZero() {
		p.where(o.timeCol + " < " + p.time("to", o.to))
	}
	if f.Cluster != "" {
		c := p.str("cluster", f.Cluster)
		p.where("(src_cluster = " + c + " OR dst_cluster = " + c + ")")
	}
	if f.Namespace != "" {
		n := p.str("namespace", f.Namespace)
		p.where("(src_namespace = " + n + " OR dst_namespace = " + n + ")")
	}
	if f.Workload != "" {
		w := p.str("workload", f.Workload)
		p.where("(src_workload = " + w + " OR dst_workload = " + w + ")")
	}
	if cs := f.classes(); cs != nil && !o.allClasses {
		ph := make([]string, len(cs))
		for i, c := range cs {
			ph[i] = p.str("class"+strconv.Itoa(i), c)
		}
		p.where("traffic_class IN (" + strings.Join(ph, ", ") + ")")
	}
}

// rollupOpts is the Filter's own window on the rollup.
func (f Filter) rollupOpts() filterOpts {
	return filterOpts{timeCol: "hour", from: f.From, to: f.To}
}
