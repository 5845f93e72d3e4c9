package api

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAllTokens(t *testing.T) {
	const secret = "Hq4v8NzR2kTw6Ym"
	cases := []struct {
		name, file string
		want       []Secret
		wantErr    string
	}{
		{"one per line, comments and blanks skipped", "# ci\n" + secret + "\n\n  other-token  \n", []Secret{"inline", secret, "other-token"}, ""},
		{"YAML list item", "- " + secret + "\n", nil, "line 1: not a bare token"},
		{"YAML mapping", "# tokens\nci: " + secret + "\n", nil, "line 2: not a bare token"},
		{"tab inside", secret + "\tx\n", nil, "line 1: not a bare token"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "tokens")
			require.NoError(t, os.WriteFile(p, []byte(c.file), 0o600))
			cfg := Configuration{Tokens: []Secret{" inline ", ""}, TokensFile: p}
			got, err := cfg.AllTokens()
			if c.wantErr != "" {
				require.ErrorContains(t, err, c.wantErr)
				for i := 0; i+4 <= len(secret); i++ {
					require.NotContains(t, err.Error(), secret[i:i+4], "the error quotes part of the token")
				}
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.want, got)
		})
	}
	_, err := Configuration{TokensFile: filepath.Join(t.TempDir(), "absent")}.AllTokens()
	require.ErrorContains(t, err, "tokens_file")
}
