package traffic

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Output formats of Render.
const (
	FormatTable = "table"
	FormatCSV   = "csv"
	FormatJSON  = "json"
)

// ParseFormat checks an output format name; "" means table.
func ParseFormat(s string) (string, error) {
	switch s {
	case "":
		return FormatTable, nil
	case FormatTable, FormatCSV, FormatJSON:
		return s, nil
	}
	return "", fmt.Errorf("%w: format must be table, csv or json, not %q", ErrBadFilter, s)
}

// Result is a report Render can write: Talkers, DayCosts, Comparison or
// Skews.
type Result interface {
	// grid lays the result out as text cells: human-readable (GB, $, %)
	// for tables, exact numbers for CSV.
	grid(human bool) grid
}

// grid is a result as a text table.
type grid struct {
	header  []string
	numeric []bool // right-align in tables
	rows    [][]string
}

// Render writes res to w as an aligned text table, CSV or JSON. Tables use
// human units (GB = 10^9 bytes with 2 decimals, $ with 2, % with 1); CSV and
// JSON carry exact values (bytes, USD, shares as 0..1).
func Render(w io.Writer, res Result, format string) error {
	format, err := ParseFormat(format)
	if err != nil {
		return err
	}
	switch format {
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	case FormatCSV:
		g := res.grid(false)
		cw := csv.NewWriter(w)
		if err := cw.Write(g.header); err != nil {
			return err
		}
		if err := cw.WriteAll(g.rows); err != nil {
			return err
		}
		return cw.Error()
	default:
		return writeTable(w, res.grid(true))
	}
}

// writeTable aligns g in columns separated by two spaces.
func writeTable(w io.Writer, g grid) error {
	width := make([]int, len(g.header))
	for _, row := range append([][]string{g.header}, g.rows...) {
		for i, c := range row {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	line := func(row []string) {
		var l strings.Builder
		for i, c := range row {
			if i > 0 {
				l.WriteString("  ")
			}
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if g.numeric[i] {
				l.WriteString(pad + c)
			} else {
				l.WriteString(c + pad)
			}
		}
		b.WriteString(strings.TrimRight(l.String(), " ") + "\n")
	}
	line(g.header)
	for _, row := range g.rows {
		line(row)
	}
	if len(g.rows) == 0 {
		b.WriteString("(no traffic)\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Cell formatters: human for tables, exact for CSV.
func gb(v float64) string { return strconv.FormatFloat(v/1e9, 'f', 2, 64) }
func usd(v float64) string {
	if v < 0 {
		return "-$" + strconv.FormatFloat(-v, 'f', 2, 64)
	}
	return "$" + strconv.FormatFloat(v, 'f', 2, 64)
}
func pct(v float64) string  { return strconv.FormatFloat(v*100, 'f', 1, 64) + "%" }
func num(v float64) string  { return strconv.FormatFloat(v, 'f', -1, 64) }
func count(v uint64) string { return strconv.FormatUint(v, 10) }

func (t Talkers) grid(human bool) grid {
	g := grid{numeric: []bool{false, false, true, true, true, true}}
	if human {
		g.header = []string{"SRC " + strings.ToUpper(string(t.By)), "DST " + strings.ToUpper(string(t.By)), "GB", "COST", "SHARE", "RECORDS"}
	} else {
		g.header = []string{"src", "dst", "bytes", "cost_usd", "share", "records"}
	}
	for _, r := range t.Rows {
		if human {
			g.rows = append(g.rows, []string{r.Src, r.Dst, gb(r.Bytes), usd(r.CostUSD), pct(r.Share), count(r.Records)})
		} else {
			g.rows = append(g.rows, []string{r.Src, r.Dst, num(r.Bytes), num(r.CostUSD), num(r.Share), count(r.Records)})
		}
	}
	return g
}

func (d DayCosts) grid(human bool) grid {
	g := grid{numeric: []bool{false, false, true, true, true}}
	if human {
		g.header = []string{"DAY", "CLASS", "GB", "COST", "RECORDS"}
	} else {
		g.header = []string{"day", "class", "bytes", "cost_usd", "records"}
	}
	for _, r := range d {
		if human {
			g.rows = append(g.rows, []string{r.Day, r.Class, gb(r.Bytes), usd(r.CostUSD), count(r.Records)})
		} else {
			g.rows = append(g.rows, []string{r.Day, r.Class, num(r.Bytes), num(r.CostUSD), count(r.Records)})
		}
	}
	return g
}

func (s Skews) grid(human bool) grid {
	g := grid{numeric: []bool{false, false, false, true, false, true, true, true, true, true}}
	if human {
		g.header = []string{"CLUSTER", "NAMESPACE", "WORKLOAD", "SKEW", "ZONE", "GB", "TRAFFIC", "PODS", "POD SHARE", "RATIO"}
	} else {
		g.header = []string{"cluster", "namespace", "workload", "score", "zone", "bytes", "traffic_share", "pods", "pod_share", "ratio"}
	}
	for _, w := range s {
		for i, z := range w.Zones {
			if human {
				row := []string{w.Cluster, w.Namespace, w.Workload, pct(w.Score)}
				if i > 0 {
					row = []string{"", "", "", ""}
				}
				g.rows = append(g.rows, append(row, z.Zone, gb(z.Bytes), pct(z.TrafficShare),
					strconv.FormatFloat(z.Pods, 'f', 2, 64), pct(z.PodShare), strconv.FormatFloat(z.Ratio, 'f', 2, 64)))
			} else {
				g.rows = append(g.rows, []string{w.Cluster, w.Namespace, w.Workload, num(w.Score), z.Zone,
					num(z.Bytes), num(z.TrafficShare), num(z.Pods), num(z.PodShare), num(z.Ratio)})
			}
		}
	}
	return g
}
