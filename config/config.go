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

// Decode strictly decodes YAML from r into dst.
func Decode(r io.Reader, dst any) error {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	if err := dec.Decode(dst); err != nil && !errors.Is(err, io.EOF) {
		return err
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
	walk(reflect.ValueOf(dst), nil, func(path []string, f reflect.Value) {
		name := envName(path)
		v, ok := env[name]
		if !ok {
			return
		}
		target := reflect.New(f.Type())
		target.Elem().Set(f)
		if err := yaml.Unmarshal([]byte(v), target.Interface()); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			return
		}
		f.Set(target.Elem())
	})
	return errors.Join(errs...)
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
