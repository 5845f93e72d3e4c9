package secrets

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/furrowdev/furrow/deployer/spec"
	smtest "github.com/furrowdev/furrow/internal/testenv/secretsmanager"
)

// The tests below run the real aws-sdk-go-v2 Secrets Manager client
// against internal/testenv/secretsmanager, a local server speaking Secrets
// Manager's JSON protocol: it stands in for AWS, which cannot run here.

// env is a server with nine JSON secrets, s1..s9, and a resolver on it.
type env struct {
	srv  *smtest.Server
	res  *Resolver
	reg  *prometheus.Registry
	arns map[string]string
	vers map[string]string
}

func newEnv(t *testing.T, opts ...Option) *env {
	t.Helper()
	srv := smtest.New(t, smtest.Options{Region: "eu-west-1"})
	e := &env{srv: srv, reg: prometheus.NewRegistry(), arns: map[string]string{}, vers: map[string]string{}}
	for i := 1; i <= 9; i++ {
		id := fmt.Sprintf("app/s%d", i)
		e.arns[id], e.vers[id] = srv.CreateString(t, id, fmt.Sprintf(`{"user":"u%d","password":"p%d","port":5432}`, i, i))
	}
	srv.ResetCalls()
	e.res = NewResolver(srv.Client(t), append([]Option{WithRegistry(e.reg)}, opts...)...)
	return e
}

func refsN(n int) []secretRef {
	refs := make([]secretRef, n)
	for i := range refs {
		refs[i] = secretRef{Name: fmt.Sprintf("n%d", i+1), SecretID: fmt.Sprintf("app/s%d", i+1)}
	}
	return refs
}

func operations(calls []smtest.Call) string {
	var ops []string
	for _, c := range calls {
		ops = append(ops, c.Operation+"="+c.Answer)
	}
	return strings.Join(ops, " ")
}

func TestResolveOneToEight(t *testing.T) {
	e := newEnv(t)
	for n := 1; n <= MaxPerConfig; n++ {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			e.srv.ResetCalls()
			got, err := e.res.resolveRefs(context.Background(), "shop/prod", refsN(n))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != n {
				t.Fatalf("%d secrets resolved, want %d", len(got), n)
			}
			for i := 1; i <= n; i++ {
				r := got[fmt.Sprintf("n%d", i)]
				id := fmt.Sprintf("app/s%d", i)
				if r.VersionID != e.vers[id] || r.ARN != e.arns[id] || r.Binary {
					t.Errorf("%s: pinned to %s (%s), want %s (%s)", id, r.VersionID, r.ARN, e.vers[id], e.arns[id])
				}
				want := map[string]string{"": fmt.Sprintf(`{"user":"u%d","password":"p%d","port":5432}`, i, i),
					"user": fmt.Sprintf("u%d", i), "password": fmt.Sprintf("p%d", i), "port": "5432"}
				if fmt.Sprint(map[string]string(r.Values)) != fmt.Sprint(want) {
					t.Errorf("%s: values %v, want %v", id, map[string]string(r.Values), want)
				}
			}
			// One secret: GetSecretValue; more: one batch call for all.
			wantOps := "GetSecretValue=200"
			if n > 1 {
				wantOps = "BatchGetSecretValue=200"
			}
			if ops := operations(e.srv.Calls()); ops != wantOps {
				t.Fatalf("calls %q, want %q", ops, wantOps)
			}
		})
	}
	if got := testutil.ToFloat64(e.res.metrics.resolutions.WithLabelValues("ok")); got != MaxPerConfig {
		t.Fatalf("resolutions ok %v", got)
	}
}

func TestNineRefused(t *testing.T) {
	e := newEnv(t)
	got, err := e.res.resolveRefs(context.Background(), "shop/prod", refsN(9))
	if got != nil || !errors.Is(err, ErrTooMany) {
		t.Fatalf("9 secrets: got %v, %v", got, err)
	}
	if !strings.Contains(err.Error(), "config shop/prod references 9 secrets") || !strings.Contains(err.Error(), "n9") {
		t.Fatalf("error should name the config and the secrets: %v", err)
	}
	if calls := e.srv.Calls(); len(calls) != 0 {
		t.Fatalf("refused config still read secrets: %v", calls)
	}
	if got := testutil.ToFloat64(e.res.metrics.resolutions.WithLabelValues("refused")); got != 1 {
		t.Fatalf("refused counter %v", got)
	}
}

func TestAllOrNothing(t *testing.T) {
	cases := []struct {
		name   string
		opts   []Option
		setup  func(e *env)
		refs   func() []secretRef
		failID string // the secret the error names
		code   string // AWS error code in the chain, "" for a local reason
	}{
		{
			name:   "one missing, batch",
			refs:   func() []secretRef { return append(refsN(3), secretRef{Name: "gone", SecretID: "app/none"}) },
			failID: "app/none", code: "ResourceNotFoundException",
		},
		{
			name:   "one missing, one by one",
			opts:   []Option{WithoutBatch()},
			refs:   func() []secretRef { return append(refsN(3), secretRef{Name: "gone", SecretID: "app/none"}) },
			failID: "app/none", code: "ResourceNotFoundException",
		},
		{
			name: "unknown stage",
			refs: func() []secretRef {
				return append(refsN(2), secretRef{Name: "x", SecretID: "app/s3", VersionStage: "AWSPENDING"})
			},
			failID: "app/s3", code: "ResourceNotFoundException",
		},
		{
			name:   "missing JSON key",
			refs:   func() []secretRef { return append(refsN(2), secretRef{Name: "x", SecretID: "app/s3", Key: "passwd"}) },
			failID: "app/s3",
		},
		{
			name: "deleted mid-resolution",
			setup: func(e *env) {
				// The batch call reads s1, s2; then s3 (pinned to its
				// version id, read on its own) is deleted.
				e.srv.AfterCall(func(c smtest.Call) {
					if c.Operation == "BatchGetSecretValue" {
						e.srv.Delete("app/s3")
					}
				})
			},
			refs: func() []secretRef { return refsN(2) },
			// filled below: s3 by version id
			failID: "app/s3", code: "ResourceNotFoundException",
		},
		{
			name:   "scheduled for deletion",
			setup:  func(e *env) { e.srv.FailNext("GetSecretValue", "InvalidRequestException", "marked for deletion") },
			refs:   func() []secretRef { return []secretRef{{Name: "a", SecretID: "app/s1"}} },
			failID: "app/s1", code: "InvalidRequestException",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.opts...)
			refs := tc.refs()
			if tc.name == "deleted mid-resolution" {
				refs = append(refs, secretRef{Name: "pinned", SecretID: "app/s3", VersionID: e.vers["app/s3"]})
			}
			if tc.setup != nil {
				tc.setup(e)
			}
			got, err := e.res.resolveRefs(context.Background(), "", refs)
			if got != nil || err == nil {
				t.Fatalf("want no map and an error, got %v, %v", got, err)
			}
			var se *Error
			if !errors.As(err, &se) || se.SecretID != tc.failID || !strings.Contains(err.Error(), tc.failID) {
				t.Fatalf("error should name %s: %v", tc.failID, err)
			}
			if tc.code != "" {
				var ae smithy.APIError
				if !errors.As(err, &ae) || ae.ErrorCode() != tc.code {
					t.Fatalf("want AWS error %s in the chain: %v", tc.code, err)
				}
			}
		})
	}
}

func TestKeysAndBinary(t *testing.T) {
	e := newEnv(t)
	e.srv.CreateString(t, "plain", "hunter2-plain")
	e.srv.CreateString(t, "nested", `{"a":{"b":[1, 2]},"n":null,"t":true,"s":"x\"y"}`)
	e.srv.CreateBinary(t, "bin", []byte{0, 1, 0xfe})
	cases := []struct {
		ref     secretRef
		want    map[string]string
		wantErr string
	}{
		{secretRef{SecretID: "app/s1", Key: "password"}, map[string]string{"password": "p1"}, ""},
		{secretRef{SecretID: "app/s1", Key: "port"}, map[string]string{"port": "5432"}, ""},
		{secretRef{SecretID: "nested", Key: "a"}, map[string]string{"a": `{"b":[1,2]}`}, ""},
		{secretRef{SecretID: "nested", Key: "s"}, map[string]string{"s": `x"y`}, ""},
		{secretRef{SecretID: "nested"}, map[string]string{"": `{"a":{"b":[1, 2]},"n":null,"t":true,"s":"x\"y"}`, "a": `{"b":[1,2]}`, "t": "true", "s": `x"y`}, ""},
		{secretRef{SecretID: "nested", Key: "n"}, nil, `key "n": not in the secret's JSON object`},
		{secretRef{SecretID: "plain"}, map[string]string{"": "hunter2-plain"}, ""},
		{secretRef{SecretID: "plain", Key: "password"}, nil, `key "password": the secret string is not a JSON object`},
		{secretRef{SecretID: "bin"}, map[string]string{"": base64.StdEncoding.EncodeToString([]byte{0, 1, 0xfe})}, ""},
		{secretRef{SecretID: "bin", Key: "k"}, nil, "binary"},
	}
	for _, tc := range cases {
		t.Run(tc.ref.SecretID+"/"+tc.ref.Key, func(t *testing.T) {
			tc.ref.Name = "x"
			got, err := e.res.resolveRefs(context.Background(), "", []secretRef{tc.ref})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || got != nil {
					t.Fatalf("want error %q, got %v, %v", tc.wantErr, got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(map[string]string(got["x"].Values)) != fmt.Sprint(tc.want) {
				t.Fatalf("values %v, want %v", map[string]string(got["x"].Values), tc.want)
			}
			if got["x"].Binary != (tc.ref.SecretID == "bin") {
				t.Fatalf("binary flag %v", got["x"].Binary)
			}
		})
	}
}

func TestPinningAndRotation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v1 := e.vers["app/s1"]
	v2 := e.srv.PutString(t, "app/s1", `{"password":"rotated"}`)
	// A rotation in progress: v3 is pending, then becomes current.
	v3 := e.srv.PutString(t, "app/s1", `{"password":"third"}`, "AWSPENDING")
	cases := []struct {
		name      string
		ref       secretRef
		rotate    bool
		wantVer   string
		wantValue string
	}{
		{"current", secretRef{}, false, v2, "rotated"},
		{"previous", secretRef{VersionStage: "AWSPREVIOUS"}, false, v1, "p1"},
		{"pending", secretRef{VersionStage: "AWSPENDING"}, false, v3, "third"},
		{"pinned id", secretRef{VersionID: v1}, false, v1, "p1"},
		{"id and stage agree", secretRef{VersionID: v2, VersionStage: "AWSCURRENT"}, false, v2, "rotated"},
		{"current after rotation", secretRef{}, true, v3, "third"},
		{"previous after rotation", secretRef{VersionStage: "AWSPREVIOUS"}, true, v2, "rotated"},
		{"pinned id survives rotation", secretRef{VersionID: v1}, true, v1, "p1"},
	}
	rotated := false
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.rotate && !rotated {
				_, err := e.srv.Client(t).UpdateSecretVersionStage(ctx, &sm.UpdateSecretVersionStageInput{
					SecretId: aws.String("app/s1"), VersionStage: aws.String("AWSCURRENT"),
					MoveToVersionId: aws.String(v3), RemoveFromVersionId: aws.String(v2)})
				if err != nil {
					t.Fatal(err)
				}
				rotated = true
			}
			ref := tc.ref
			ref.Name, ref.SecretID, ref.Key = "db", "app/s1", "password"
			// With a second secret, so that AWSCURRENT goes through the batch.
			got, err := e.res.resolveRefs(ctx, "", []secretRef{ref, {Name: "other", SecretID: "app/s2"}})
			if err != nil {
				t.Fatal(err)
			}
			if got["db"].VersionID != tc.wantVer || got["db"].Values["password"] != tc.wantValue {
				t.Fatalf("got version %s value %q, want %s %q", got["db"].VersionID, got["db"].Values["password"], tc.wantVer, tc.wantValue)
			}
		})
	}
	vs, err := e.res.Versions(ctx, spec.SecretRef{Name: "db", SecretID: "app/s1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 3 || vs[0].ID != v3 || vs[2].ID != v1 || strings.Join(vs[1].Stages, ",") != "AWSPREVIOUS" || vs[0].Created.IsZero() {
		t.Fatalf("versions: %+v", vs)
	}
	// A mismatch of id and stage is AWS's error, named.
	_, err = e.res.resolveRefs(ctx, "", []secretRef{{Name: "db", SecretID: "app/s1", VersionID: v1, VersionStage: "AWSCURRENT"}})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("id/stage mismatch: %v", err)
	}
	if _, err := e.res.Versions(ctx, spec.SecretRef{Name: "x", SecretID: "app/none"}); !errors.As(err, &nf) || !strings.Contains(err.Error(), "app/none") {
		t.Fatalf("versions of a missing secret: %v", err)
	}
}

func TestSameSecretTwoKeysOneVersion(t *testing.T) {
	e := newEnv(t)
	got, err := e.res.resolveRefs(context.Background(), "", []secretRef{
		{Name: "user", SecretID: "app/s1", Key: "user"},
		{Name: "pass", SecretID: e.arns["app/s1"], Key: "password"},
		{Name: "other", SecretID: "app/s2"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got["user"].Values["user"] != "u1" || got["pass"].Values["password"] != "p1" || got["user"].VersionID != got["pass"].VersionID {
		t.Fatalf("got %+v", got)
	}
	if ops := operations(e.srv.Calls()); ops != "BatchGetSecretValue=200" {
		t.Fatalf("calls %s", ops)
	}
	if c := e.srv.Calls()[0]; len(c.SecretIDs) != 3 {
		t.Fatalf("batch asked for %v", c.SecretIDs)
	}
}

func TestBatchFallbackAndThrottling(t *testing.T) {
	cases := []struct {
		name    string
		setup   func(s *smtest.Server)
		wantOps string
		wantErr string
	}{
		{"batch unknown", func(s *smtest.Server) { s.DisableBatch() },
			"BatchGetSecretValue=UnknownOperationException GetSecretValue=200 GetSecretValue=200 GetSecretValue=200", ""},
		{"batch denied", func(s *smtest.Server) {
			s.FailNext("BatchGetSecretValue", "AccessDeniedException", "not authorized to perform: secretsmanager:BatchGetSecretValue")
		}, "BatchGetSecretValue=AccessDeniedException GetSecretValue=200 GetSecretValue=200 GetSecretValue=200", ""},
		{"throttled twice, retried", func(s *smtest.Server) { s.Throttle(2) },
			"BatchGetSecretValue=ThrottlingException BatchGetSecretValue=ThrottlingException BatchGetSecretValue=200", ""},
		{"throttled past the retries", func(s *smtest.Server) { s.Throttle(3) },
			"BatchGetSecretValue=ThrottlingException BatchGetSecretValue=ThrottlingException BatchGetSecretValue=ThrottlingException",
			"ThrottlingException"},
		{"server error, not retried", func(s *smtest.Server) { s.FailNext("", "InternalServiceError", "boom") },
			"BatchGetSecretValue=InternalServiceError", "InternalServiceError"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			tc.setup(e.srv)
			got, err := e.res.resolveRefs(context.Background(), "", refsN(3))
			if tc.wantErr != "" {
				if got != nil || err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("want %s, got %v %v", tc.wantErr, got, err)
				}
			} else if err != nil || len(got) != 3 {
				t.Fatalf("got %v %v", got, err)
			}
			// Concurrent GetSecretValue calls arrive in any order; the
			// operations and answers are what matter.
			if ops := operations(e.srv.Calls()); ops != tc.wantOps {
				t.Fatalf("calls %q, want %q", ops, tc.wantOps)
			}
		})
	}
}

func TestUnsignedRequestRefused(t *testing.T) {
	e := newEnv(t)
	anon := sm.New(e.srv.Options(), func(o *sm.Options) { o.Credentials = aws.AnonymousCredentials{} })
	got, err := NewResolver(anon).resolveRefs(context.Background(), "", refsN(2))
	var ae smithy.APIError
	if got != nil || !errors.As(err, &ae) || ae.ErrorCode() != "MissingAuthenticationTokenException" {
		t.Fatalf("unsigned: %v %v", got, err)
	}
	if c := e.srv.Calls(); len(c) != 1 || c[0].AccessKeyID != "" {
		t.Fatalf("calls %+v", c)
	}
}

func TestValuesNeverPrinted(t *testing.T) {
	e := newEnv(t)
	e.srv.CreateString(t, "distinct", `{"password":"Zq8-never-printed-7Kx"}`)
	got, err := e.res.resolveRefs(context.Background(), "", []secretRef{{Name: "a", SecretID: "distinct"}, {Name: "b", SecretID: "distinct", Key: "password"}})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	log.Info("x", "resolved", got, "values", got["b"].Values)
	log.Info("y", "one", got["a"])
	out := buf.String() + fmt.Sprintf("%v %+v %#v %s %q %x", got, got, got, got["b"].Values, got["b"].Values, got["b"].Values)
	if strings.Contains(out, "never-printed") || strings.Contains(out, fmt.Sprintf("%x", "never-printed")) {
		t.Fatalf("value printed: %s", out)
	}
	if !strings.Contains(out, "<secret>") {
		t.Fatalf("no redaction marker: %s", out)
	}
	if got["b"].Values["password"] != "Zq8-never-printed-7Kx" {
		t.Fatal("the value itself is readable by indexing")
	}
}
