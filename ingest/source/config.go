package source

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Configuration says how to reach S3 and what `furrow serve` polls. Files
// need no configuration.
type Configuration struct {
	// Endpoint is the S3 API base URL of an S3-compatible store (MinIO,
	// Ceph, R2), e.g. http://minio:9000. Empty means AWS, or the SDK's own
	// AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL.
	Endpoint string `yaml:"endpoint"`
	// Region signs requests. Empty falls back to the SDK's chain
	// (AWS_REGION, ~/.aws/config) and then to us-east-1.
	Region string `yaml:"region"`
	// PathStyle addresses buckets as ENDPOINT/bucket/key instead of
	// bucket.ENDPOINT/key; most S3-compatible stores need it.
	PathStyle bool `yaml:"path_style"`
	// AccessKeyID, with SecretAccessKey, are static credentials. Empty
	// uses the SDK's standard chain (env, ~/.aws, SSO, web identity, IMDS).
	AccessKeyID string `yaml:"access_key_id"`
	// SecretAccessKey goes with AccessKeyID; it never appears in dumps,
	// errors or logs.
	SecretAccessKey Secret `yaml:"secret_access_key"`
	// SessionToken goes with temporary static credentials; usually empty.
	SessionToken Secret `yaml:"session_token"`
	// Prefixes are what the poller lists: s3://bucket/prefix URLs or local
	// directories, as `furrow ingest flowlogs` accepts them.
	Prefixes []string `yaml:"prefixes"`
	// PollInterval is the pause between two listings of Prefixes.
	PollInterval time.Duration `yaml:"poll_interval"`
	// Lookback is how far back in data time each poll looks. It must cover
	// the delivery delay of flow logs (files land 5–15 min after their
	// time stamp) plus any outage to recover from.
	Lookback time.Duration `yaml:"lookback"`
	// TempDir receives S3 objects downloaded for random access (Parquet);
	// empty means the system temporary directory.
	TempDir string `yaml:"temp_dir"`
}

// DefaultConfiguration polls nothing every minute over the last 6 hours and
// uses AWS with the standard credential chain.
func DefaultConfiguration() Configuration {
	return Configuration{
		PollInterval: time.Minute,
		Lookback:     6 * time.Hour,
	}
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
	for _, p := range c.Prefixes {
		if strings.TrimSpace(p) == "" {
			bad("prefixes: empty entry")
		} else if strings.HasPrefix(p, "s3://") {
			if b, _, _ := strings.Cut(strings.TrimPrefix(p, "s3://"), "/"); b == "" {
				bad("prefixes: %q has no bucket; write s3://bucket/prefix", p)
			}
		}
	}
	if c.PollInterval < time.Second {
		bad("poll_interval: must be at least 1s, got %s", c.PollInterval)
	}
	if c.Lookback < c.PollInterval {
		bad("lookback: must be at least poll_interval (%s), got %s", c.PollInterval, c.Lookback)
	}
	return errors.Join(errs...)
}
