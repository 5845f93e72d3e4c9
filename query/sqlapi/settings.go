package sqlapi

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/furrowdev/furrow/internal/chsql"
)

// Client settings on the ClickHouse HTTP interface. Clients send settings
// in the URL and in a SETTINGS clause; a ClickHouse server in readonly=1
// refuses them all, which breaks the clients (Grafana's ad hoc filters are
// additional_table_filters, JS and Python clients set output_format_*).
// Each setting is one of:
//   - passed: harmless ones that shape the output or only tighten a limit;
//   - refused, with the reason: those that would lift readonly, reach
//     files, URLs, other servers or processes, or raise a limit;
//   - ignored (reported back): everything else. The query runs as if the
//     setting were not sent, which is safe, and the client is told which.

// settingName is what a setting's name may be; anything else could not be
// a setting and must never reach a SETTINGS clause.
var settingName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

// passedSettings are passed as the client sent them.
var passedSettings = lowerSet(
	"date_time_output_format", "date_time_input_format", "session_timezone", "result_overflow_mode",
	"extremes", "totals_mode", "join_use_nulls", "cast_keep_nullable", "transform_null_in",
	"prefer_column_name_to_alias", "aggregate_functions_null_for_empty", "union_default_mode",
	"joined_subquery_requires_alias", "log_comment", "allow_experimental_analyzer", "limit", "offset",
	"max_rows_to_read", "max_bytes_to_read", "max_rows_to_group_by", "max_rows_to_sort", "max_bytes_to_sort",
	"max_rows_in_join", "max_bytes_in_join", "max_rows_in_distinct", "max_bytes_in_distinct",
	"read_overflow_mode", "group_by_overflow_mode", "sort_overflow_mode", "timeout_overflow_mode",
)

// passedPrefixes: output formatting.
var passedPrefixes = []string{"output_format_", "format_csv_", "format_tsv_", "format_custom_", "format_display_"}

// refusedWords in a name mean the setting reaches outside the database.
var refusedWords = []string{
	"file", "url", "s3", "hdfs", "azure", "remote", "executable", "user_scripts", "dictionar",
	"odbc", "jdbc", "mysql", "postgres", "mongo", "redis", "introspection", "format_schema",
	"format_template", "schema_inference", "storage_", "ddl", "mutations", "insert",
}

// vettedSettings is the outcome of vetting a client's settings.
type vettedSettings struct {
	pass    map[string]string
	filters map[string]string // additional_table_filters, parsed
	ignored []string
}

// vetSettings sorts the client's settings (see above). limits are the
// endpoint's own: a client may lower them, never raise them.
func (c Configuration) vetSettings(in map[string]string) (vettedSettings, error) {
	v := vettedSettings{pass: map[string]string{}}
	names := make([]string, 0, len(in))
	for k := range in {
		names = append(names, k)
	}
	sort.Strings(names)
	limits := c.settings()
	for _, name := range names {
		value := in[name]
		lower := strings.ToLower(name)
		if !settingName.MatchString(name) {
			return v, &RefusedError{Reason: fmt.Sprintf("%.64q is not a setting name", name)}
		}
		switch {
		case lower == "readonly":
			if n, err := strconv.Atoi(strings.TrimSpace(value)); err != nil || n < 1 {
				return v, &RefusedError{Reason: "readonly cannot be lifted: this endpoint only reads"}
			}
			continue // readonly=1 or 2 asked: 1 applies
		case lower == "additional_table_filters":
			f, err := parseTableFilters(value)
			if err != nil {
				return v, err
			}
			v.filters = f
			continue
		}
		if own, ok := limits[lower]; ok && (strings.HasPrefix(lower, "max_")) {
			if lower == "max_execution_time" && !lowerLimit(value, own) {
				// Drivers send their own socket timeout here on every
				// query (clickhouse-go: its read timeout plus a margin,
				// Grafana's datasource: its query timeout), so refusing a
				// higher one would refuse every query of theirs; the
				// endpoint's own limit stays, and the client is told.
				v.ignored = append(v.ignored, name)
				continue
			}
			if !lowerLimit(value, own) {
				return v, &RefusedError{Reason: fmt.Sprintf("%s=%s would raise the limit of %s: it may only be lowered", name, value, own)}
			}
			v.pass[lower] = strings.TrimSpace(value)
			continue
		}
		if refusedName(lower) {
			return v, &RefusedError{Reason: fmt.Sprintf("the setting %s is not allowed here: it reaches files, URLs, other servers or processes, or writes", name)}
		}
		if strings.HasPrefix(lower, "allow_") && lower != "allow_experimental_analyzer" {
			return v, &RefusedError{Reason: fmt.Sprintf("the setting %s is not allowed here: it would allow what the endpoint forbids", name)}
		}
		if passedSettings[lower] || hasAnyPrefix(lower, passedPrefixes) {
			v.pass[lower] = value
			continue
		}
		v.ignored = append(v.ignored, name)
	}
	return v, nil
}

func refusedName(lower string) bool {
	for _, w := range refusedWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// lowerLimit reports whether value is a positive number no larger than
// own (0 means unlimited to ClickHouse).
func lowerLimit(value, own string) bool {
	v, err1 := strconv.ParseFloat(strings.TrimSpace(value), 64)
	o, err2 := strconv.ParseFloat(own, 64)
	return err1 == nil && err2 == nil && v > 0 && v <= o
}

// parseTableFilters reads additional_table_filters, a map literal
// {'table': 'condition', …}, and checks each condition: it must not read
// another table (no subquery) nor call a function the endpoint refuses,
// whatever way the engine parses it. The check is on the condition's
// words, not its parse, so it holds even where furrow's reading and the
// engine's would differ.
func parseTableFilters(value string) (map[string]string, error) {
	bad := func(why string) error {
		return &RefusedError{Reason: "additional_table_filters: " + why + ": send {'table': 'condition', …}"}
	}
	var toks []chsql.Token
	for _, t := range chsql.Tokens(value) {
		if t.Significant() {
			toks = append(toks, t)
		}
	}
	if len(toks) < 2 || toks[0].Text != "{" || toks[len(toks)-1].Text != "}" {
		return nil, bad("not a map literal")
	}
	out := map[string]string{}
	body := toks[1 : len(toks)-1]
	for i := 0; i < len(body); {
		if i+2 >= len(body) || body[i].Kind != chsql.String || body[i+1].Text != ":" || body[i+2].Kind != chsql.String {
			return nil, bad("not a map of strings")
		}
		table, cond := unquoteString(body[i].Text), unquoteString(body[i+2].Text)
		if err := checkFilter(cond); err != nil {
			return nil, err
		}
		out[table] = cond
		i += 3
		if i < len(body) {
			if body[i].Text != "," {
				return nil, bad("entries must be separated by commas")
			}
			i++
		}
	}
	return out, nil
}

// filterWords may not appear in a filter condition.
var filterWords = lowerSet("select", "settings", "format", "union", "with", "into", "outfile", "from", "join", "system")

func checkFilter(cond string) error {
	if chsql.OneStatement(cond) != nil || strings.IndexByte(cond, 0) >= 0 {
		return &RefusedError{Reason: "additional_table_filters: a condition is one expression"}
	}
	depth := 0
	for _, t := range chsql.Tokens(cond) {
		if t.Kind == chsql.Punct {
			for _, c := range t.Text {
				switch c {
				case '(', '[', '{':
					depth++
				case ')', ']', '}':
					depth--
				}
				if depth < 0 {
					// "1) OR (1" would escape the parentheses furrow puts
					// around each condition when it adds its own.
					return &RefusedError{Reason: "additional_table_filters: a condition's brackets must balance"}
				}
			}
		}
		switch t.Kind {
		case chsql.Error, chsql.HereDoc:
			return &RefusedError{Reason: "additional_table_filters: a condition does not parse"}
		case chsql.Word, chsql.QuotedIdent:
			w := strings.ToLower(unquoteIdent(t))
			if filterWords[w] {
				return &RefusedError{Reason: fmt.Sprintf("additional_table_filters: %q is not allowed in a condition: filters compare columns with values", w)}
			}
			if deniedFunctions[w] {
				return &RefusedError{Reason: fmt.Sprintf("additional_table_filters: the %s() function is not allowed", w)}
			}
		}
	}
	if depth != 0 {
		return &RefusedError{Reason: "additional_table_filters: a condition's brackets must balance"}
	}
	return nil
}

// renderTableFilters writes filters back as the setting's map literal;
// conditions on the same table are joined with AND.
func renderTableFilters(parts ...map[string]string) string {
	merged := map[string][]string{}
	for _, p := range parts {
		for t, c := range p {
			merged[t] = append(merged[t], "("+c+")")
		}
	}
	tables := sortedKeys(merged)
	var b strings.Builder
	b.WriteString("{")
	for i, t := range tables {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(chsql.QuoteString(t) + ": " + chsql.QuoteString(strings.Join(merged[t], " AND ")))
	}
	b.WriteString("}")
	return b.String()
}
