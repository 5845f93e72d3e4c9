package secrets

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/furrowdev/furrow/deployer/spec"
)

// WholeSecret is the key of Values holding the secret string as stored
// (or, for a binary secret, its base64 encoding): spec's.
const WholeSecret = spec.WholeSecret

const redacted = "<secret>"

// secretRef is one Secrets Manager secret a config needs: spec.SecretRef
// with the JSON key the spec selects.
type secretRef struct {
	// Name is the secret's name in the spec; it keys Resolve's map.
	Name string
	// SecretID is the secret's ARN (full or without the random suffix) or
	// name in Secrets Manager.
	SecretID string
	// VersionStage selects a staging label; with VersionID both must match.
	// Both empty read AWSCURRENT.
	VersionStage string
	// VersionID pins one version.
	VersionID string
	// Key, when set, selects one top-level key of a secret stored as a JSON
	// object; the secret must be one and have the key.
	Key string
}

// resolvedSecret is one secret as read, pinned to the version read.
type resolvedSecret struct {
	// Name is the spec's name of the secret.
	Name string
	// SecretID is the secretRef's SecretID, ARN is the secret's full ARN.
	SecretID, ARN string
	// VersionID is the version that was read: what the deployer records
	// in its history, and what a later deploy pins to reproduce this one.
	VersionID string
	// Stages are the version's staging labels when it was read.
	Stages []string
	// Binary says the secret was a SecretBinary, base64-encoded in Values.
	Binary bool
	// Values holds the secret's value (see the package documentation for
	// the keys). It prints <secret>.
	Values Values
}

// Values is a secret's value by key. It never shows itself: fmt's verbs,
// JSON encoding and slog all print <secret>; read it by indexing. The
// resolver keeps values in it; spec.ResolvedSecret.Values is a plain map,
// so wrap it (secrets.Values(rs.Values)) before logging or formatting.
type Values map[string]string

// String hides the values from %s and %v.
func (Values) String() string { return redacted }

// GoString hides the values from %#v.
func (Values) GoString() string { return redacted }

// Format hides the values from every fmt verb, %+v and %x included.
func (Values) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// MarshalJSON hides the values when they are encoded.
func (Values) MarshalJSON() ([]byte, error) { return json.Marshal(redacted) }

// LogValue hides the values from slog handlers.
func (Values) LogValue() slog.Value { return slog.StringValue(redacted) }

// Keys are the keys present, which may be shown.
func (v Values) Keys() []string {
	out := make([]string, 0, len(v))
	for k := range v {
		out = append(out, k)
	}
	return out
}

// extractError is a value-free reason a secret's value cannot be used.
type extractError struct{ msg string }

func (e *extractError) Error() string { return e.msg }

func errNotObject(key string) error {
	return &extractError{fmt.Sprintf("key %q: the secret string is not a JSON object, so it has no keys; drop key or store the secret as JSON", key)}
}

func errMissingKey(key string) error {
	return &extractError{fmt.Sprintf("key %q: not in the secret's JSON object (or null); check the key's spelling against the secret", key)}
}

func errBinaryKey(key string) error {
	return &extractError{fmt.Sprintf("key %q: the secret is binary (SecretBinary), which has no keys; drop key", key)}
}

func errEmpty() error {
	return &extractError{"the version has neither SecretString nor SecretBinary"}
}

// extract builds the Values of a secret string for key ("" for all). Its
// errors are made from key alone: nothing of s reaches them.
func extract(s, key string) (Values, error) {
	fields, isObject := fields(s)
	if key == "" {
		v := make(Values, len(fields)+1)
		for k, x := range fields {
			v[k] = x
		}
		v[WholeSecret] = s
		return v, nil
	}
	if !isObject {
		return nil, errNotObject(key)
	}
	x, ok := fields[key]
	if !ok {
		return nil, errMissingKey(key)
	}
	return Values{key: x}, nil
}

// extractBinary builds the Values of a SecretBinary.
func extractBinary(b []byte, key string) (Values, error) {
	if key != "" {
		return nil, errBinaryKey(key)
	}
	return Values{WholeSecret: base64.StdEncoding.EncodeToString(b)}, nil
}

// fields decodes s as a JSON object: each top-level key's value as a
// string (strings as they are, other scalars as written, objects and
// arrays as compact JSON, null keys left out). isObject is false when s is
// not a JSON object (the key "" of an object is left out too: it would
// shadow WholeSecret).
func fields(s string) (out map[string]string, isObject bool) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil || raw == nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		// Trailing data after the object: not one JSON object.
		return nil, false
	}
	out = make(map[string]string, len(raw))
	for k, m := range raw {
		if k == WholeSecret {
			continue
		}
		m = bytes.TrimSpace(m)
		switch {
		case bytes.Equal(m, []byte("null")):
			continue
		case len(m) > 0 && m[0] == '"':
			var str string
			if json.Unmarshal(m, &str) != nil {
				return nil, false
			}
			out[k] = str
		case len(m) > 0 && (m[0] == '{' || m[0] == '['):
			var buf bytes.Buffer
			if json.Compact(&buf, m) != nil {
				return nil, false
			}
			out[k] = buf.String()
		default:
			out[k] = string(m)
		}
	}
	return out, true
}
