package api

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAllTokens(t *testing.T) {
	const secret = "Hq4v8NzR2kTw6Ym9"
	const long = "7f3a9c1e5b2d8f4a6c0e"
	read := Scopes{ScopeRead}
	cases := []struct {
		where, name, file string
		want              []Token
		wantErr           string
	}{
		{here(), "bare tokens have the read scope", "# ci\n" + secret + "\n\n  other-token  \n",
			[]Token{{"http.tokens[0]", read, "inline"}, {"tokens_file:2", read, secret}, {"tokens_file:4", read, "other-token"}}, ""},
		{here(), "subject, scopes, token", "ci-loader ingest " + secret + "\nops@acme admin,read " + long + "\n",
			[]Token{{"http.tokens[0]", read, "inline"}, {"ci-loader", Scopes{ScopeIngest}, secret}, {"ops@acme", Scopes{ScopeAdmin, ScopeRead}, long}}, ""},
		{here(), "YAML list item", "- " + secret + "\n", nil, "line 1: 2 fields"},
		{here(), "YAML mapping", "# tokens\nci: " + secret + "\n", nil, "line 2: 2 fields"},
		{here(), "tab inside", secret + "\tx\n", nil, "line 1: 2 fields"},
		{here(), "YAML mapping with scopes", "- subject: ci\n  token: " + secret + "\n", nil, "line 1: field 1 (subject)"}, // "- subject: ci" splits in 3 fields
		{here(), "unknown scope", "ci delete " + secret + "\n", nil, "line 1: field 2 (scopes) holds an unknown scope"},
		{here(), "fields swapped", "ci " + secret + " read\n", nil, "line 1: field 2 (scopes)"},
		{here(), "token first", secret + " read ci\n", nil, "line 1: field 3 (token) is shorter"},
		{here(), "four fields", "ci read " + secret + " extra\n", nil, "line 1: 4 fields"},
		{here(), "same token twice", "a read " + secret + "\nb admin " + secret + "\n", nil, "the same token is listed for a and b"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "tokens")
			require.NoError(t, os.WriteFile(p, []byte(c.file), 0o600))
			cfg := Configuration{Tokens: []Secret{" inline ", ""}, TokensFile: p}
			got, err := cfg.AllTokens()
			if c.wantErr != "" {
				require.ErrorContains(t, err, c.wantErr, c.where)
				for i := 0; i+4 <= len(secret); i++ {
					require.NotContains(t, err.Error(), secret[i:i+4], "%s: the error quotes part of the token", c.where)
				}
				return
			}
			require.NoError(t, err, c.where)
			require.Equal(t, c.want, got, c.where)
		})
	}
	p := filepath.Join(t.TempDir(), "tokens")
	require.NoError(t, os.WriteFile(p, []byte("a read "+long+"\n"), 0o600))
	_, err := Configuration{Tokens: []Secret{long}, TokensFile: p}.AllTokens()
	require.ErrorContains(t, err, "the same token is listed for http.tokens[0] and a")
	require.NotContains(t, err.Error(), long[:6])

	_, err = Configuration{TokensFile: filepath.Join(t.TempDir(), "absent")}.AllTokens()
	require.ErrorContains(t, err, "tokens_file")
}

func TestScopesHas(t *testing.T) {
	for _, c := range []struct {
		where string
		have  Scopes
		want  Scope
		ok    bool
	}{
		{here(), Scopes{ScopeRead}, ScopeRead, true},
		{here(), Scopes{ScopeRead}, ScopeIngest, false},
		{here(), Scopes{ScopeIngest}, ScopeRead, false},
		{here(), Scopes{ScopeAdmin}, ScopeIngest, true},
		{here(), Scopes{ScopeAdmin}, ScopeRead, true},
		{here(), nil, ScopeRead, false},
	} {
		require.Equal(t, c.ok, c.have.Has(c.want), c.where)
	}
}
