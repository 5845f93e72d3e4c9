package config

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// leakSecret is a token-like value with no run of 4 characters that an
// error message would contain by chance.
const leakSecret = "Zq7x9KpW3mV8rT2nYc"

type leakZone struct {
	CIDR netip.Prefix `yaml:"cidr"`
	Zone string       `yaml:"zone"`
}

type leakHTTP struct {
	Listen   string        `yaml:"listen"`
	Tokens   []Secret      `yaml:"tokens"`
	Password Secret        `yaml:"password"`
	Timeout  time.Duration `yaml:"timeout"`
	Port     int           `yaml:"port"`
	Dev      bool          `yaml:"dev"`
}

type leakConfig struct {
	HTTP  leakHTTP     `yaml:"http"`
	CIDR  netip.Prefix `yaml:"cidr"`
	Zones []leakZone   `yaml:"zones"`
}

// requireNoLeak fails when msg holds the secret or any run of 4 or more of
// its characters.
func requireNoLeak(t *testing.T, msg string) {
	t.Helper()
	for i := 0; i+minSecretRun <= len(leakSecret); i++ {
		for j := i + minSecretRun; j <= len(leakSecret); j++ {
			require.NotContains(t, msg, leakSecret[i:j], "the error quotes part of the secret")
		}
	}
}

// TestDecodeErrorsNeverQuoteValues writes the secret in every wrong shape
// we could think of, in the file and in FURROW_* variables: each must be an
// error that says where, and none may quote the secret, whole or in part.
func TestDecodeErrorsNeverQuoteValues(t *testing.T) {
	s := leakSecret
	files := []struct{ name, yaml, where string }{
		{"token as a string, not a list", "http:\n  tokens: " + s + "\n", "line 2, column 11: http.tokens: expected a list of strings"},
		{"token as a block string", "http:\n  tokens: |\n    " + s + "\n", "http.tokens: expected a list"},
		{"token as a mapping key", "http:\n  tokens:\n    " + s + ": x\n", "http.tokens: expected a list of strings"},
		{"token as a mapping value", "http:\n  tokens: {prod: " + s + "}\n", "http.tokens: expected a list"},
		{"token in a nested list", "http:\n  tokens: [[" + s + "]]\n", "http.tokens[0]: expected a string, got a list"},
		{"token in a list of mappings", "http:\n  tokens:\n    - name: ci\n      token: " + s + "\n", "http.tokens[0]: expected a string, got a mapping"},
		{"password as a list", "http:\n  password: [" + s + "]\n", "http.password: expected a string, got a list"},
		{"password as a mapping", "http:\n  password:\n    value: " + s + "\n", "http.password: expected a string"},
		{"secret where a section goes", "http: " + s + "\n", "line 1, column 7: http: expected a mapping"},
		{"secret alone in the file", s + "\n", "line 1, column 1: expected a mapping"},
		{"secret as a top-level list", "- " + s + "\n", "expected a mapping"},
		{"secret as a key of its own", "http:\n  " + s + ": true\n", "line 2, column 3: http: unknown key"},
		{"secret as a bare line", "http:\n  listen: x\n  " + s + "\n", "line "},
		{"secret as a duration", "http:\n  timeout: " + s + "\n", "http.timeout: expected a duration"},
		{"secret as a number", "http:\n  port: " + s + "\n", "http.port: expected a whole number, got a string"},
		{"secret as a boolean", "http:\n  dev: " + s + "\n", "http.dev: expected true or false"},
		{"secret as a CIDR", "cidr: " + s + "\n", "cidr: invalid netip.Prefix"},
		{"secret as a CIDR with a prefix length", "cidr: " + s + "/99\n", "cidr: invalid netip.Prefix"},
		{"secret in a list of mappings", "zones:\n  - " + s + "\n", "zones[0]: expected a mapping"},
		{"secret as the list of zones", "zones: " + s + "\n", "zones: expected a list of mappings"},
		{"secret as a binary", "http:\n  password: !!binary " + s + "\n", "http.password"},
		{"unclosed flow list", "http:\n  tokens: [" + s + "\n", "line "},
		{"unclosed quote", "http:\n  password: '" + s + "\n", "line "},
		{"unclosed double quote", "http:\n  password: \"" + s + "\n", "line "},
		{"colon inside the value", "http:\n  password: " + s + ": x\n", "line "},
		{"tab indentation", "http:\n\tpassword: " + s + "\n", "line "},
		{"list item after a mapping", "http:\n  listen: x\n  - " + s + "\n", "line "},
		{"duplicate key", "http:\n  password: " + s + "\n  password: " + s + "x\n", "line "},
		{"unknown anchor", "http:\n  password: " + s + "\n  listen: *" + s + "\n", "unknown anchor"},
	}
	for _, c := range files {
		t.Run("file/"+c.name, func(t *testing.T) {
			var cfg leakConfig
			err := Decode(strings.NewReader(c.yaml), &cfg)
			require.Error(t, err, "a wrong shape must be an error")
			t.Log(err)
			requireNoLeak(t, err.Error())
			require.Contains(t, err.Error(), c.where)
		})
	}
	envs := []struct{ name, env, where string }{
		{"token as a string", "FURROW_HTTP_TOKENS=" + s, "FURROW_HTTP_TOKENS: expected a list of strings"},
		{"token as a mapping", "FURROW_HTTP_TOKENS={prod: " + s + "}", "FURROW_HTTP_TOKENS: expected a list"},
		{"token in a nested list", "FURROW_HTTP_TOKENS=[[" + s + "]]", "FURROW_HTTP_TOKENS[0]: expected a string"},
		{"unclosed list", "FURROW_HTTP_TOKENS=[" + s, "FURROW_HTTP_TOKENS: not valid YAML"},
		{"unclosed quote", "FURROW_HTTP_PASSWORD='" + s, "FURROW_HTTP_PASSWORD: not valid YAML"},
		{"password as a list", "FURROW_HTTP_PASSWORD=[" + s + "]", "FURROW_HTTP_PASSWORD: expected a string, got a list"},
		{"secret as a duration", "FURROW_HTTP_TIMEOUT=" + s, "FURROW_HTTP_TIMEOUT: expected a duration"},
		{"secret as a CIDR", "FURROW_CIDR=" + s, "FURROW_CIDR: invalid netip.Prefix"},
		{"secret as zones", "FURROW_ZONES=[{cidr: " + s + "}]", "FURROW_ZONES[0].cidr: invalid netip.Prefix"},
	}
	for _, c := range envs {
		t.Run("env/"+c.name, func(t *testing.T) {
			var cfg leakConfig
			err := ApplyEnv(&cfg, []string{c.env})
			require.Error(t, err, "a wrong shape must be an error")
			t.Log(err)
			requireNoLeak(t, err.Error())
			require.Contains(t, err.Error(), c.where)
		})
	}
}

func TestScrub(t *testing.T) {
	require.Equal(t, "cannot unmarshal `…...` into int", scrub("cannot unmarshal `Zq7x9KpW3m...` into int", []string{leakSecret}))
	require.Equal(t, "a Zq7 b", scrub("a Zq7 b", []string{leakSecret}), "runs shorter than 4 stay")
	require.Equal(t, "x … y … z", scrub("x Zq7x9 y W3mV8 z", []string{leakSecret}))
}
