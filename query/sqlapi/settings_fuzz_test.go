package sqlapi

import (
	"strings"
	"testing"
)

// FuzzTableFilters: whatever a client sends as additional_table_filters,
// the parser never panics, an accepted condition never holds a subquery
// or a refused function, and what furrow writes back reads the same.
func FuzzTableFilters(f *testing.F) {
	for _, s := range []string{
		`{'flow_logs': 'src_namespace = \'payments\''}`,
		`{'a': 'x > 1', 'b': 'y IN (1, 2)'}`,
		`{'system.tables': '1) OR (1'}`,
		`{'t': 'file(\'/etc/passwd\') != \'\''}`,
		`{'t': 'x IN (SELECT 1)'}`,
		`{}`, `{'t':}`, `{'t': 'a', }`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := parseTableFilters(in)
		if err != nil {
			return
		}
		for table, cond := range got {
			lower := strings.ToLower(cond)
			for _, w := range []string{"select", "file(", "url("} {
				if strings.Contains(lower, w) && checkFilter(cond) == nil {
					t.Fatalf("%q: condition %q on %q accepted with %q", in, cond, table, w)
				}
			}
		}
		back, err := parseTableFilters(renderTableFilters(got))
		if err != nil {
			t.Fatalf("%q: furrow's own rendering refused: %v", in, err)
		}
		for table, cond := range got {
			if back[table] != "("+cond+")" {
				t.Fatalf("%q: %q became %q", in, cond, back[table])
			}
		}
	})
}

// FuzzCutTrailing: cutting a statement's trailing clauses never panics
// and only ever removes text from its end.
func FuzzCutTrailing(f *testing.F) {
	for _, s := range []string{
		"SELECT 1 FORMAT JSON", "SELECT 1 SETTINGS a = 1, b = 'x' FORMAT CSV", "SELECT 1 FORMAT JSON SETTINGS a = {'t': 'x'}",
		"SELECT (1 SETTINGS a = 1)", "SELECT format FROM t", "SELECT 1 AS FORMAT",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		rest, _ := cutTrailing(in)
		if !strings.HasPrefix(strings.TrimSpace(in), rest) {
			t.Fatalf("%q: %q is not a prefix", in, rest)
		}
	})
}
