package spec

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Error is one problem of a spec, located in its file.
type Error struct {
	// File is the spec's file name as given to Parse.
	File string `json:"file"`
	// Line and Column are 1-based; 0 when the problem has no place (an absent field is reported at its parent).
	Line   int `json:"line,omitempty"`
	Column int `json:"column,omitempty"`
	// Field is the field path, e.g. environments.prod.regions[1].clusters[0].
	Field string `json:"field,omitempty"`
	// Msg says what is wrong and, where it helps, what to write instead.
	Msg string `json:"message"`
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors returns the *Error values joined in err, in order.
func Errors(err error) []*Error {
	var out []*Error
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		var e *Error
		if errors.As(err, &e) && err == error(e) {
			out = append(out, e)
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		if errors.As(err, &e) {
			out = append(out, e)
		}
	}
	walk(err)
	return out
}

type position struct{ line, column int }

// Limits on hostile input: a spec is a page of YAML, so anything near these
// is a mistake or an attack (alias bombs expand a few lines into millions of
// nodes).
const (
	maxSpecBytes = 1 << 20
	maxNodes     = 100_000
	maxDepth     = 64
	maxErrors    = 50
)

// decoder fills Go values from a yaml.v3 node tree by reflection, so that
// every error carries the node's position and the field path, which
// yaml.v3's own KnownFields mode does not give (it has neither the column
// nor the path).
type decoder struct {
	file  string
	errs  []error
	pos   map[string]position
	nodes int
}

func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	e := &Error{File: d.file, Field: path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	d.errs = append(d.errs, e)
}

func (d *decoder) full() bool { return len(d.errs) >= maxErrors || d.nodes > maxNodes }

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string, depth int) {
	if d.full() {
		return
	}
	d.nodes++
	if d.nodes > maxNodes {
		d.errorf(n, path, "more than %d YAML nodes (alias expansion?); a spec is a short file", maxNodes)
		return
	}
	if depth > maxDepth {
		d.errorf(n, path, "nested more than %d levels deep", maxDepth)
		return
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			d.errorf(n, path, "unknown alias")
			return
		}
		d.decode(n.Alias, v, path, depth+1)
		return
	}
	if d.pos != nil && path != "" {
		if _, ok := d.pos[path]; !ok {
			d.pos[path] = position{n.Line, n.Column}
		}
	}
	if v.Kind() == reflect.Pointer {
		if isNull(n) {
			return
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem(), path, depth+1)
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.decodeStruct(n, v, path, depth)
	case reflect.Map:
		d.decodeMap(n, v, path, depth)
	case reflect.Slice:
		if isNull(n) {
			return
		}
		if n.Kind != yaml.SequenceNode {
			d.errorf(n, path, "want a list, got %s", describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			d.decode(c, s.Index(i), fmt.Sprintf("%s[%d]", path, i), depth+1)
		}
		v.Set(s)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.errorf(n, path, "want a string, got %s", describe(n))
			return
		}
		if isNull(n) {
			return
		}
		intOK := v.Type() == reflect.TypeOf(PortRef("")) || v.Type() == reflect.TypeOf(IntOrPercent(""))
		if tag := n.ShortTag(); tag != "!!str" && !(intOK && tag == "!!int") {
			// YAML reads 1.10 as a number and yes as a boolean; the
			// schema says string, so a spec must quote them.
			d.errorf(n, path, "want a string, got %s: quote it", describe(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
			d.errorf(n, path, "want true or false, got %s", describe(n))
			return
		}
		v.SetBool(b)
	case reflect.Int32, reflect.Int64:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			d.errorf(n, path, "want an integer, got %s", describe(n))
			return
		}
		i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, v.Type().Bits())
		if err != nil {
			d.errorf(n, path, "want an integer that fits in %d bits, got %s", v.Type().Bits(), n.Value)
			return
		}
		v.SetInt(i)
	default:
		panic("spec: no decoder for " + v.Type().String())
	}
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string, depth int) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "want a mapping of fields, got %s", describe(n))
		return
	}
	fields := structFields(v.Type())
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, path, "a key must be a plain name, got %s", describe(k))
			continue
		}
		p := join(path, k.Value)
		if k.Value == "<<" {
			d.errorf(k, path, "merge keys (<<) are not supported: write the fields out")
			continue
		}
		if seen[k.Value] {
			d.errorf(k, p, "given twice")
			continue
		}
		seen[k.Value] = true
		idx, ok := fields[k.Value]
		if !ok {
			d.errorf(k, p, "%s", unknownField(k.Value, fields))
			continue
		}
		d.decode(val, v.Field(idx), p, depth+1)
	}
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string, depth int) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "want a mapping, got %s", describe(n))
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || isNull(k) || k.Value == "<<" {
			d.errorf(k, path, "a key must be a plain name, got %s", describe(k))
			continue
		}
		p := join(path, k.Value)
		key := reflect.ValueOf(k.Value)
		if v.MapIndex(key).IsValid() {
			d.errorf(k, p, "given twice")
			continue
		}
		e := reflect.New(v.Type().Elem()).Elem()
		d.decode(val, e, p, depth+1)
		v.SetMapIndex(key, e)
	}
}

// forbidden are Kubernetes settings people try to write into a spec; they
// get the company rule instead of a bare "unknown field".
var forbidden = map[string]string{
	"privileged":               "privileged containers are forbidden by company rule",
	"hostNetwork":              "the host network is forbidden by company rule",
	"host_network":             "the host network is forbidden by company rule",
	"hostPath":                 "hostPath volumes are forbidden by company rule",
	"host_path":                "hostPath volumes are forbidden by company rule",
	"hostPID":                  "sharing the host's PIDs is forbidden by company rule",
	"allowPrivilegeEscalation": "privilege escalation is forbidden by company rule",
	"capabilities":             "added capabilities are forbidden by company rule",
}

func unknownField(name string, fields map[string]int) string {
	if msg, ok := forbidden[name]; ok {
		return msg + " (docs/deployer.md, company rules)"
	}
	best, bestD := "", 3
	names := make([]string, 0, len(fields))
	for f := range fields {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, f := range names {
		if dist := levenshtein(strings.ToLower(name), f); dist < bestD {
			best, bestD = f, dist
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown field (did you mean %q?)", best)
	}
	return "unknown field; known fields here: " + strings.Join(names, ", ")
}

func levenshtein(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// structFields maps yaml names to field indexes.
func structFields(t reflect.Type) map[string]int {
	out := map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		out[name] = i
	}
	return out
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	v := n.Value
	if len(v) > 40 {
		v = v[:40] + "…"
	}
	return strconv.Quote(v)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
