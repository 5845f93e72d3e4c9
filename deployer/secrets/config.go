package secrets

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	furrowconfig "github.com/furrowdev/furrow/config"
)

// Configuration says how the deployer reaches AWS Secrets Manager; it sits
// under deployer.secrets_manager. Like the S3 source's, it goes through
// the SDK's standard configuration (environment, ~/.aws, SSO, web
// identity, IMDS) and overrides only what is set.
type Configuration struct {
	// Endpoint is the Secrets Manager API base URL, for a local stand-in
	// (tests, LocalStack-like endpoints) or a VPC endpoint, e.g.
	// http://127.0.0.1:4566. Empty means AWS, or the SDK's own
	// AWS_ENDPOINT_URL_SECRETS_MANAGER / AWS_ENDPOINT_URL.
	Endpoint string `yaml:"endpoint"`
	// Region is the region of the secrets. Empty falls back to the SDK's
	// chain (AWS_REGION, ~/.aws/config); a secret's full ARN names its
	// own region, but the client signs for this one.
	Region string `yaml:"region"`
	// AccessKeyID, with SecretAccessKey, are static credentials. Empty
	// uses the SDK's default chain, which is what production should do
	// (an IAM role allowed secretsmanager:GetSecretValue,
	// BatchGetSecretValue and ListSecretVersionIds on the secrets).
	AccessKeyID string `yaml:"access_key_id"`
	// SecretAccessKey goes with AccessKeyID; it never appears in dumps,
	// errors or logs.
	SecretAccessKey furrowconfig.Secret `yaml:"secret_access_key"`
	// SessionToken goes with temporary static credentials; usually empty.
	SessionToken furrowconfig.Secret `yaml:"session_token"`
	// Timeout bounds one resolution of a config's secrets, retries
	// included.
	Timeout time.Duration `yaml:"timeout"`
	// MaxAttempts is how many times the SDK tries one call (throttling and
	// 5xx are retried with backoff); 3 is the SDK's default.
	MaxAttempts int `yaml:"max_attempts"`
}

// DefaultConfiguration uses AWS with the default credential chain, 3
// attempts per call and 30s per resolution.
func DefaultConfiguration() Configuration {
	return Configuration{Timeout: 30 * time.Second, MaxAttempts: 3}
}

// Validate reports every problem at once, each naming its YAML key.
func (c Configuration) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Endpoint != "" {
		if u, err := url.Parse(c.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("endpoint: %q is not an http(s):// URL", c.Endpoint)
		}
	}
	if (c.AccessKeyID == "") != (c.SecretAccessKey == "") {
		bad("access_key_id, secret_access_key: set both or neither (neither uses the AWS credential chain)")
	}
	if c.SessionToken != "" && c.AccessKeyID == "" {
		bad("session_token: needs access_key_id and secret_access_key")
	}
	if c.Timeout < time.Second {
		bad("timeout: must be at least 1s, got %s", c.Timeout)
	}
	if c.MaxAttempts < 1 || c.MaxAttempts > 10 {
		bad("max_attempts: must be between 1 and 10, got %d", c.MaxAttempts)
	}
	return errors.Join(errs...)
}

// NewClient builds a Secrets Manager client through the SDK's standard
// configuration, then applies what cfg sets: region, static credentials,
// endpoint, attempts.
func NewClient(ctx context.Context, cfg Configuration) (*secretsmanager.Client, error) {
	var opts []func(*config.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.AccessKeyID != "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(
			cfg.AccessKeyID, cfg.SecretAccessKey.Reveal(), cfg.SessionToken.Reveal())))
	}
	if cfg.MaxAttempts > 0 {
		opts = append(opts, config.WithRetryMaxAttempts(cfg.MaxAttempts))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration for Secrets Manager (check AWS_* variables and ~/.aws): %w", err)
	}
	if awsCfg.Region == "" {
		return nil, errors.New("secrets manager: no region: set deployer.secrets_manager.region or AWS_REGION")
	}
	return secretsmanager.NewFromConfig(awsCfg, func(o *secretsmanager.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
	}), nil
}
