package config

import (
	"encoding/json"
	"log/slog"
)

// Secret is a string that never shows itself: fmt, YAML and JSON encoding and
// slog all print "<secret>". Decoding reads the real value.
type Secret string

const redacted = "<secret>"

// Reveal returns the value, for the one place that must use it.
func (s Secret) Reveal() string { return string(s) }

// String hides the value from fmt's %s and %v.
func (Secret) String() string { return redacted }

// GoString hides the value from fmt's %#v.
func (Secret) GoString() string { return redacted }

// MarshalYAML hides the value when a configuration is dumped.
func (Secret) MarshalYAML() (any, error) { return redacted, nil }

// MarshalJSON hides the value when a configuration is dumped as JSON.
func (Secret) MarshalJSON() ([]byte, error) { return json.Marshal(redacted) }

// LogValue hides the value from slog handlers.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }
