package config

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Configuration values never appear in decoding errors, whole or in part.
// yaml.v3 quotes the start of an offending value ("cannot unmarshal !!str
// `s3cr3t-tok...` into []config.Secret"), so a token written in the wrong
// shape would leak into a log. Decoding therefore checks the document's
// shape against the target type first and reports problems by line, key
// path and expected shape only; whatever error remains is scrubbed of every
// value of the document (scrub).

// problem is one place where the document does not fit the target type.
type problem struct {
	line, column int
	path         string // key path, e.g. http.tokens[0]; "" for the top
	msg          string
}

// checkShape walks n against t and returns every problem. Leaf types that
// decode themselves (netip.Prefix, …) are decoded here, one node at a time,
// so that their errors carry a key path too.
func checkShape(n *yaml.Node, t reflect.Type, path string) []problem {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil
		}
		return checkShape(n.Content[0], t, path)
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil // null keeps the default, as yaml.v3 does
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	at := func(msg string) []problem {
		return []problem{{n.Line, n.Column, path, msg}}
	}
	if selfDecoding(t) {
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			return at("invalid " + t.String() + ": " + scrub(typeErrorText(err), valuesOf(n)))
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return at(mismatch(t, n))
		}
		fields := yamlFields(t)
		var out []problem
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			f, ok := fields[k.Value]
			if k.Kind != yaml.ScalarNode || !ok {
				out = append(out, unknownKey(k, path, fields))
				continue
			}
			out = append(out, checkShape(v, f, join(path, k.Value))...)
		}
		return out
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return at(mismatch(t, n))
		}
		var out []problem
		for i, item := range n.Content {
			out = append(out, checkShape(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
		}
		return out
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return at(mismatch(t, n))
		}
		var out []problem
		for i := 0; i+1 < len(n.Content); i += 2 {
			out = append(out, checkShape(n.Content[i+1], t.Elem(), join(path, n.Content[i].Value))...)
		}
		return out
	case reflect.Interface:
		return nil
	default:
		if n.Kind != yaml.ScalarNode {
			return at(mismatch(t, n))
		}
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			return at(mismatch(t, n))
		}
		return nil
	}
}

// unknownKey reports a key the struct does not have. The key is named only
// when it is a near miss of a real key: a key far from all of them may be a
// value pasted in the wrong place (a token on a line of its own), and the
// line and column point at it anyway.
func unknownKey(k *yaml.Node, path string, fields map[string]reflect.Type) problem {
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	p := problem{line: k.Line, column: k.Column, path: path}
	if s, ok := closest(k.Value, names); ok && k.Kind == yaml.ScalarNode {
		p.msg = fmt.Sprintf("unknown key %q (did you mean %q?)", k.Value, s)
	} else {
		p.msg = "unknown key; the keys here are " + strings.Join(names, ", ")
	}
	return p
}

// yamlFields maps the YAML names of t's fields (inline structs flattened)
// to their types, as yaml.v3 decodes them.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			for k, v := range yamlFields(sf.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(sf.Name)
		}
		out[name] = sf.Type
	}
	return out
}

// selfDecoding reports whether *t decodes itself from YAML or text.
func selfDecoding(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return p.Implements(reflect.TypeFor[yaml.Unmarshaler]()) ||
		p.Implements(reflect.TypeFor[interface{ UnmarshalText([]byte) error }]())
}

// mismatch says what was expected at n and what was found, without n's
// value.
func mismatch(t reflect.Type, n *yaml.Node) string {
	return "expected " + describe(t) + ", got " + found(n)
}

var durationType = reflect.TypeFor[time.Duration]()

// describe names the YAML shape that decodes into t.
func describe(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == durationType:
		return "a duration such as 30s or 5m"
	case selfDecoding(t):
		return "a " + t.String() + " value"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number, zero or more"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Struct, reflect.Map:
		return "a mapping (key: value)"
	case reflect.Slice, reflect.Array:
		return "a list of " + plural(t.Elem()) + " ([a, b] or one \"- item\" per line)"
	}
	return "a " + t.String()
}

// plural names the items of a list of t.
func plural(t reflect.Type) string {
	d := describe(t)
	switch {
	case t.Kind() == reflect.String:
		return "strings"
	case strings.HasPrefix(d, "a mapping"):
		return "mappings (key: value)"
	}
	return "items, each " + d
}

// found names the shape of n, never its value.
func found(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.Tag {
	case "!!str":
		return "a string"
	case "!!int":
		return "a whole number"
	case "!!float":
		return "a number"
	case "!!bool":
		return "a boolean"
	case "!!binary":
		return "binary data"
	case "!!timestamp":
		return "a timestamp"
	}
	return "a value tagged " + n.ShortTag()
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// valuesOf collects the scalar values under n (mapping keys excluded: they
// are names, not values).
func valuesOf(n *yaml.Node) []string {
	var out []string
	var walk func(*yaml.Node)
	walk = func(n *yaml.Node) {
		switch n.Kind {
		case yaml.ScalarNode:
			out = append(out, n.Value)
		case yaml.MappingNode:
			for i := 1; i < len(n.Content); i += 2 {
				walk(n.Content[i])
			}
		default:
			for _, c := range n.Content {
				walk(c)
			}
		}
	}
	walk(n)
	return out
}

// typeErrorText renders a yaml.v3 error without the values it quotes:
// "line 3: cannot unmarshal !!str `s3cr3t...` into int" becomes
// "line 3: cannot unmarshal !!str into int".
func typeErrorText(err error) string {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err.Error()
	}
	msgs := make([]string, len(te.Errors))
	for i, e := range te.Errors {
		if head, rest, ok := strings.Cut(e, "cannot unmarshal "); ok {
			tag, _, _ := strings.Cut(rest, " ")
			into := rest[strings.LastIndex(rest, " into ")+len(" into "):]
			e = head + "cannot unmarshal " + tag + " into " + into
		}
		msgs[i] = e
	}
	return strings.Join(msgs, "; ")
}

// minSecretRun is the shortest run of a value's characters scrub removes;
// shorter runs (a "-", an "ab") are too common in messages to mean a leak.
const minSecretRun = 4

// scrub removes from msg every run of at least minSecretRun characters
// that also occurs in one of values, a last line of defence for messages
// that a decoder wrote and furrow did not.
func scrub(msg string, values []string) string {
	for _, v := range values {
		for {
			i, n := longestCommon(msg, v)
			if n < minSecretRun {
				break
			}
			msg = msg[:i] + "…" + msg[i+n:]
		}
	}
	return msg
}

// longestCommon returns the position in a and the length of the longest
// substring of a that is also a substring of b.
func longestCommon(a, b string) (pos, length int) {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			if a[i-1] == b[j-1] {
				cur[j] = prev[j-1] + 1
				if cur[j] > length {
					pos, length = i-cur[j], cur[j]
				}
			} else {
				cur[j] = 0
			}
		}
		prev, cur = cur, prev
	}
	return pos, length
}
