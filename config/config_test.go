package config

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type inner struct {
	Listen  string        `yaml:"listen"`
	Tokens  []Secret      `yaml:"tokens"`
	Timeout time.Duration `yaml:"timeout"`
}

type sample struct {
	Data string `yaml:"data"`
	HTTP inner  `yaml:"http"`
	Skip string `yaml:"-"`
}

func TestDecodeStrictAndEnv(t *testing.T) {
	cases := []struct {
		name    string
		yaml    string
		env     []string
		want    sample
		wantErr string
	}{
		{"defaults kept", "", nil, sample{Data: "./data", HTTP: inner{Listen: "127.0.0.1:8080", Timeout: time.Second}}, ""},
		{"file overrides", "http:\n  listen: 0.0.0.0:9\n", nil, sample{Data: "./data", HTTP: inner{Listen: "0.0.0.0:9", Timeout: time.Second}}, ""},
		{"unknown key", "http:\n  listen: x\n  lisen: y\n", nil, sample{}, `line 3, column 3: http: unknown key "lisen" (did you mean "listen"?)`},
		{"env over file", "http:\n  listen: a\n", []string{"FURROW_HTTP_LISTEN=b", "FURROW_HTTP_TIMEOUT=5s", "FURROW_HTTP_TOKENS=[x, y]", "OTHER=1"},
			sample{Data: "./data", HTTP: inner{Listen: "b", Timeout: 5 * time.Second, Tokens: []Secret{"x", "y"}}}, ""},
		{"bad env value", "", []string{"FURROW_HTTP_TIMEOUT=soon"}, sample{}, "FURROW_HTTP_TIMEOUT: expected a duration"},
		{"misspelt env", "", []string{"FURROW_HTTP_LISTN=b"}, sample{}, "unknown environment variable FURROW_HTTP_LISTN (did you mean FURROW_HTTP_LISTEN?)"},
		{"far-off env", "", []string{"FURROW_NOTHING_LIKE_IT=1"}, sample{}, "unknown environment variable FURROW_NOTHING_LIKE_IT;"},
		{"env not a key but known", "", []string{"FURROW_TOKEN=t", "FURROW_CONFIG=x", "FURROW_TEST_ANYTHING=1", "FURROW_BENCH_ROUNDS=3"},
			sample{Data: "./data", HTTP: inner{Listen: "127.0.0.1:8080", Timeout: time.Second}}, ""},
		{"empty env value keeps the file's", "http:\n  listen: a\n", []string{"FURROW_HTTP_LISTEN="},
			sample{Data: "./data", HTTP: inner{Listen: "a", Timeout: time.Second}}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := sample{Data: "./data", HTTP: inner{Listen: "127.0.0.1:8080", Timeout: time.Second}}
			err := Decode(strings.NewReader(c.yaml), &got)
			if err == nil {
				err = ApplyEnv(&got, c.env)
			}
			if c.wantErr != "" {
				require.ErrorContains(t, err, c.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.want, got)
		})
	}
}

func TestKeys(t *testing.T) {
	keys := Keys(sample{Data: "./data", HTTP: inner{Listen: "127.0.0.1:8080", Tokens: []Secret{"s3cr3t"}}})
	var got []string
	for _, k := range keys {
		got = append(got, k.Path+" "+k.Env+" "+k.Default)
	}
	require.Equal(t, []string{
		"data FURROW_DATA ./data",
		"http.listen FURROW_HTTP_LISTEN 127.0.0.1:8080",
		"http.tokens FURROW_HTTP_TOKENS [<secret>]",
		"http.timeout FURROW_HTTP_TIMEOUT 0s",
	}, got)
}
