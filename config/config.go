// Package config loads furrow's configuration: one YAML file decoded
// strictly (an unknown key is an error) over the defaults, then environment
// overrides FURROW_<PATH>, where PATH is the key path upper-cased and joined
// with underscores (http.listen → FURROW_HTTP_LISTEN). An override's value is
// read as YAML, so lists and durations work (FURROW_HTTP_TOKENS='[a, b]').
//
// Components own their configuration structs (Configuration plus
// DefaultConfiguration()); the furrow command composes them.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// EnvPrefix starts every override variable.
const EnvPrefix = "FURROW_"

// Load decodes the YAML file at path (skipped when path is empty) into dst,
// which holds the defaults, then applies overrides from environ (KEY=VALUE
// pairs, as os.Environ returns).
func Load(path string, dst any, environ []string) error {
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("config: %w", err)
		}
		defer f.Close()
		if err := Decode(f, dst); err != nil {
			return fmt.Errorf("config %s: %w", path, err)
		}
	}
	return ApplyEnv(dst, environ)
}

// Decode strictly decodes YAML from r into dst. An error says where (line,
// column, key path) and what shape was expected, and never quotes a value
// of the document: a token in the wrong place must not reach a log.
func Decode(r io.Reader, dst any) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		// Syntax errors name positions, not values; scrubbing every word
		// of the file keeps it that way whatever the parser's wording.
		return errors.New(scrub(err.Error(), strings.Fields(string(data))))
	}
	if doc.Kind == 0 {
		return nil // empty file: the defaults stand
	}
	if probs := checkShape(&doc, reflect.TypeOf(dst), ""); len(probs) > 0 {
		errs := make([]error, len(probs))
		for i, p := range probs {
			where := fmt.Sprintf("line %d, column %d", p.line, p.column)
			if p.path != "" {
				where += ": " + p.path
			}
			errs[i] = fmt.Errorf("%s: %s", where, p.msg)
		}
		return errors.Join(errs...)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(dst); err != nil && !errors.Is(err, io.EOF) {
		return errors.New(scrub(typeErrorText(err), valuesOf(&doc)))
	}
	return nil
}

// Key is one configuration key.
type Key struct {
	// Path is the dotted YAML path (http.listen).
	Path string
	// Env is the override variable (FURROW_HTTP_LISTEN).
	Env string
	// Default is the default value as YAML.
	Default string
}

// Keys lists every leaf key of the configuration struct v, in order.
func Keys(v any) []Key {
	var out []Key
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		rv = rv.Elem()
	}
	addressable := reflect.New(rv.Type())
	addressable.Elem().Set(rv)
	walk(addressable, nil, func(path []string, f reflect.Value) {
		out = append(out, Key{
			Path:    strings.Join(path, "."),
			Env:     envName(path),
			Default: flowYAML(f),
		})
	})
	return out
}

// ApplyEnv sets the fields of dst named by FURROW_* variables in environ.
// A FURROW_* variable that is neither a key's nor in Variables or
// VariablePrefixes is an error, as an unknown key in the file is: a
// misspelt override would otherwise be silently ignored.
func ApplyEnv(dst any, environ []string) error {
	env := map[string]string{}
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if ok && strings.HasPrefix(k, EnvPrefix) {
			env[k] = v
		}
	}
	if len(env) == 0 {
		return nil
	}
	var errs []error
	keys := map[string]bool{}
	walk(reflect.ValueOf(dst), nil, func(path []string, f reflect.Value) {
		name := envName(path)
		keys[name] = true
		if v, ok := env[name]; ok {
			if err := decodeEnv(name, v, f); err != nil {
				errs = append(errs, err)
			}
		}
	})
	if err := unknownVariables(env, keys); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// decodeEnv reads the YAML value v of variable name into f, with the same
// guarantee as Decode: the error never quotes v.
func decodeEnv(name, v string, f reflect.Value) error {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(v), &doc); err != nil {
		return fmt.Errorf("%s: not valid YAML: %s", name, scrub(err.Error(), []string{v}))
	}
	if doc.Kind == 0 {
		return nil // empty value: the default or the file's value stands
	}
	if probs := checkShape(&doc, f.Type(), ""); len(probs) > 0 {
		errs := make([]error, len(probs))
		for i, p := range probs {
			where := name
			if p.path != "" && p.path[0] != '[' {
				where += "."
			}
			errs[i] = fmt.Errorf("%s%s: %s", where, p.path, p.msg)
		}
		return errors.Join(errs...)
	}
	target := reflect.New(f.Type())
	target.Elem().Set(f)
	if err := doc.Decode(target.Interface()); err != nil {
		return fmt.Errorf("%s: %s", name, scrub(typeErrorText(err), []string{v}))
	}
	f.Set(target.Elem())
	return nil
}

// Marshal renders cfg as YAML (secrets print as <secret>).
func Marshal(cfg any) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(cfg); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func envName(path []string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(strings.Join(path, "_"), "-", "_"))
}

// walk calls leaf for every settable leaf field (by yaml tag) under v.
// Structs that decode themselves from YAML (yaml.Unmarshaler or
// encoding.TextUnmarshaler, e.g. netip.Prefix) are leaves.
func walk(v reflect.Value, path []string, leaf func([]string, reflect.Value)) {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct || isLeafType(v) {
		if len(path) > 0 && v.CanSet() {
			leaf(path, v)
		}
		return
	}
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			walk(v.Field(i), path, leaf)
			continue
		}
		if name == "" {
			name = strings.ToLower(sf.Name)
		}
		walk(v.Field(i), append(append([]string{}, path...), name), leaf)
	}
}

func isLeafType(v reflect.Value) bool {
	if !v.CanAddr() {
		return false
	}
	p := v.Addr().Interface()
	if _, ok := p.(yaml.Unmarshaler); ok {
		return true
	}
	if _, ok := p.(interface{ UnmarshalText([]byte) error }); ok {
		return true
	}
	return false
}

// flowYAML renders a value on one line (lists in flow style: [a, b]).
func flowYAML(v reflect.Value) string {
	var n yaml.Node
	if err := n.Encode(v.Interface()); err != nil {
		return ""
	}
	setFlow(&n)
	b, _ := yaml.Marshal(&n)
	return strings.TrimSpace(string(b))
}

func setFlow(n *yaml.Node) {
	if n.Kind == yaml.SequenceNode || n.Kind == yaml.MappingNode {
		n.Style = yaml.FlowStyle
	}
	for _, c := range n.Content {
		setFlow(c)
	}
}
