package secrets

import (
	"context"
	"strings"
	"testing"
	"time"

	smtest "github.com/furrowdev/furrow/internal/testenv/secretsmanager"
)

func TestConfigurationValidate(t *testing.T) {
	cases := []struct {
		name string
		mod  func(*Configuration)
		want []string // substrings of the error, none for valid
	}{
		{"default", func(*Configuration) {}, nil},
		{"local endpoint", func(c *Configuration) { c.Endpoint = "http://127.0.0.1:4566"; c.Region = "eu-west-1" }, nil},
		{"bad endpoint", func(c *Configuration) { c.Endpoint = "127.0.0.1:4566" }, []string{"endpoint:"}},
		{"key without secret", func(c *Configuration) { c.AccessKeyID = "AKIA" }, []string{"access_key_id, secret_access_key"}},
		{"token alone", func(c *Configuration) { c.SessionToken = "t" }, []string{"session_token"}},
		{"everything wrong", func(c *Configuration) { c.Timeout = time.Millisecond; c.MaxAttempts = 0; c.Endpoint = "ftp://x" },
			[]string{"timeout:", "max_attempts:", "endpoint:"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfiguration()
			tc.mod(&c)
			err := c.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatalf("want errors %v", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestOpenThroughConfiguration builds the client the way furrow serve
// does, from a Configuration naming the local endpoint, and resolves.
func TestOpenThroughConfiguration(t *testing.T) {
	srv := smtest.New(t, smtest.Options{Region: "ap-south-1"})
	_, ver := srv.CreateString(t, "cfg/db", `{"password":"x"}`)
	srv.ResetCalls()
	cfg := DefaultConfiguration()
	cfg.Endpoint, cfg.Region = srv.URL(), srv.Region()
	cfg.AccessKeyID, cfg.SecretAccessKey = srv.AccessKeyID(), smtest.SecretAccessKey
	r, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.resolveRefs(context.Background(), "", []secretRef{{Name: "db", SecretID: "cfg/db", Key: "password"}})
	if err != nil || got["db"].VersionID != ver || got["db"].Values["password"] != "x" {
		t.Fatalf("got %v %v", got, err)
	}
	if c := srv.Calls(); len(c) != 1 || c[0].AccessKeyID != srv.AccessKeyID() {
		t.Fatalf("calls %+v", c)
	}
	cfg.Endpoint = "not a url"
	if _, err := Open(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "deployer.secrets_manager") {
		t.Fatalf("invalid configuration opened: %v", err)
	}
}
