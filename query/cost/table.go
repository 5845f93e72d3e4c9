package cost

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/furrowdev/furrow/store"
)

// Output formats.
const (
	FormatTable = "table"
	FormatCSV   = "csv"
	FormatJSON  = "json"
)

// Table is a report's result: named columns, rows of text cells (money as
// exact decimal text), and which columns are numbers (right-aligned in
// tables, JSON numbers).
type Table struct {
	// Key names the table in JSON output: breakdown, network, summary,
	// anomalies or drivers.
	Key     string
	Title   string
	Columns []string
	Numeric map[string]bool
	Rows    [][]string
}

// queryTable runs q (TSV with names) into a Table.
func queryTable(ctx contextLike, s store.Store, key, title, q string, params map[string]string, numeric ...string) (Table, error) {
	var b bytes.Buffer
	if err := s.Query(ctx, &b, q, "TabSeparatedWithNames", store.WithParams(params)); err != nil {
		return Table{}, fmt.Errorf("%s: %w", strings.ToLower(title), err)
	}
	t := Table{Key: key, Title: title, Numeric: map[string]bool{}}
	for _, n := range numeric {
		t.Numeric[n] = true
	}
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if len(lines) == 0 || lines[0] == "" {
		return t, nil
	}
	t.Columns = strings.Split(lines[0], "\t")
	for _, l := range lines[1:] {
		cells := strings.Split(l, "\t")
		for i, c := range cells {
			cells[i] = unescapeTSV(c)
		}
		t.Rows = append(t.Rows, cells)
	}
	return t, nil
}

var tsvUnescape = strings.NewReplacer(`\t`, "\t", `\n`, "\n", `\\`, `\`, `\r`, "\r", `\0`, "\x00")

func unescapeTSV(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	return tsvUnescape.Replace(s)
}

// Render writes tables in format: aligned text under a "== title ==" line,
// CSV under a "# title" line, or one JSON object holding each table's
// rows (objects) under its Key.
func Render(w io.Writer, format string, tables ...Table) error {
	switch format {
	case FormatJSON:
		out := map[string][]map[string]any{}
		for _, t := range tables {
			rows := make([]map[string]any, 0, len(t.Rows))
			for _, r := range t.Rows {
				m := make(map[string]any, len(r))
				for i, c := range r {
					if t.Numeric[t.Columns[i]] && c != "" && c != `\N` {
						m[t.Columns[i]] = json.Number(c)
					} else {
						m[t.Columns[i]] = c
					}
				}
				rows = append(rows, m)
			}
			out[t.Key] = rows
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	case FormatCSV:
		for i, t := range tables {
			head := "# " + t.Title + "\n"
			if i > 0 {
				head = "\n" + head
			}
			if _, err := io.WriteString(w, head); err != nil {
				return err
			}
			cw := csv.NewWriter(w)
			_ = cw.Write(t.Columns)
			_ = cw.WriteAll(t.Rows)
			if err := cw.Error(); err != nil {
				return err
			}
		}
		return nil
	case FormatTable, "":
		for i, t := range tables {
			head := "== " + t.Title + " ==\n"
			if i > 0 {
				head = "\n" + head
			}
			if _, err := io.WriteString(w, head); err != nil {
				return err
			}
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, strings.ToUpper(strings.Join(t.Columns, "\t")))
			for _, r := range t.Rows {
				cells := make([]string, len(r))
				for j, c := range r {
					cells[j] = c
					if t.Numeric[t.Columns[j]] {
						cells[j] = money(c)
					}
				}
				fmt.Fprintln(tw, strings.Join(cells, "\t"))
			}
			if len(t.Rows) == 0 {
				fmt.Fprintln(tw, "(none)")
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("%w: format must be table, csv or json, not %q", ErrBadRequest, format)
}

// money shows a decimal with two fractional digits, rounded half away
// from zero on the decimal text (never through a float).
func money(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(s, ".")
	if intPart == "" || strings.Trim(intPart, "0123456789") != "" || strings.Trim(frac, "0123456789") != "" {
		return s // not a plain decimal (a ratio, an empty cell)
	}
	frac += "000"
	cents := []byte(intPart + frac[:2])
	if frac[2] >= '5' {
		for i := len(cents) - 1; i >= 0; i-- {
			if cents[i] < '9' {
				cents[i]++
				break
			}
			cents[i] = '0'
			if i == 0 {
				cents = append([]byte{'1'}, cents...)
			}
		}
	}
	c := strings.TrimLeft(string(cents[:len(cents)-2]), "0")
	if c == "" {
		c = "0"
	}
	out := c + "." + string(cents[len(cents)-2:])
	if neg && out != "0.00" {
		out = "-" + out
	}
	return out
}
