package secretsmanager

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// SecretAccessKey is the secret key Client signs with; the server checks
// the access key id and the scope, not the signature.
const SecretAccessKey = "furrow-test-secret-access-key"

// Client returns the real SDK client pointed at the server: BaseEndpoint,
// static credentials, the server's region, and the SDK's standard retryer
// (3 attempts) with backoff capped at 10ms so that retried throttling keeps
// tests fast. It does not read the environment or ~/.aws, so the
// developer's AWS settings cannot leak into a test.
func (s *Server) Client(t testing.TB) *sm.Client {
	t.Helper()
	return sm.New(s.Options())
}

// Options are the SDK options Client uses, for tests that change some.
func (s *Server) Options() sm.Options {
	return sm.Options{
		Region:       s.region,
		BaseEndpoint: aws.String(s.URL()),
		Credentials:  credentials.NewStaticCredentialsProvider(s.accessKey, SecretAccessKey, ""),
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxBackoff = 10 * time.Millisecond
		}),
	}
}

// CreateString creates a secret with a string value through the SDK and
// returns its ARN and first version id, failing the test on error.
func (s *Server) CreateString(t testing.TB, name, value string) (arn, versionID string) {
	t.Helper()
	out, err := s.Client(t).CreateSecret(context.Background(), &sm.CreateSecretInput{
		Name: aws.String(name), SecretString: aws.String(value),
	})
	if err != nil {
		t.Fatalf("secretsmanager: create %s: %v", name, err)
	}
	return aws.ToString(out.ARN), aws.ToString(out.VersionId)
}

// CreateBinary creates a secret with a binary value through the SDK.
func (s *Server) CreateBinary(t testing.TB, name string, value []byte) (arn, versionID string) {
	t.Helper()
	out, err := s.Client(t).CreateSecret(context.Background(), &sm.CreateSecretInput{
		Name: aws.String(name), SecretBinary: value,
	})
	if err != nil {
		t.Fatalf("secretsmanager: create %s: %v", name, err)
	}
	return aws.ToString(out.ARN), aws.ToString(out.VersionId)
}

// PutString adds a version to a secret through the SDK (PutSecretValue)
// with the given stages (none: AWSCURRENT, the previous current becoming
// AWSPREVIOUS) and returns its version id.
func (s *Server) PutString(t testing.TB, id, value string, stages ...string) string {
	t.Helper()
	out, err := s.Client(t).PutSecretValue(context.Background(), &sm.PutSecretValueInput{
		SecretId: aws.String(id), SecretString: aws.String(value), VersionStages: stages,
	})
	if err != nil {
		t.Fatalf("secretsmanager: put %s: %v", id, err)
	}
	return aws.ToString(out.VersionId)
}
