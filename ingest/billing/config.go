package billing

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Configuration says which report folders `furrow serve` polls for new
// deliveries. S3 access (endpoint, region, credentials) is the s3 section's.
type Configuration struct {
	// Prefixes are report folders to poll: s3://bucket/prefix (the CUR
	// report's or Data Export's prefix) or local directories, as `furrow
	// ingest billing` accepts them. Empty polls nothing.
	Prefixes []string `yaml:"prefixes"`
	// PollInterval is the pause between two listings of Prefixes. AWS
	// refreshes a report up to three times a day; a listing costs one LIST
	// per 1,000 objects and one GET per new manifest.
	PollInterval time.Duration `yaml:"poll_interval"`
	// TempDir receives the files of an S3 delivery while the engine reads
	// them (removed afterwards); empty means the system temporary directory.
	TempDir string `yaml:"temp_dir"`
}

// DefaultConfiguration polls nothing, every 15 minutes.
func DefaultConfiguration() Configuration {
	return Configuration{PollInterval: 15 * time.Minute}
}

// Validate reports every problem at once, each naming its YAML key.
func (c Configuration) Validate() error {
	var errs []error
	for _, p := range c.Prefixes {
		switch {
		case strings.TrimSpace(p) == "":
			errs = append(errs, errors.New("prefixes: empty entry"))
		case strings.HasPrefix(p, "s3://"):
			if b, _, _ := strings.Cut(strings.TrimPrefix(p, "s3://"), "/"); b == "" {
				errs = append(errs, fmt.Errorf("prefixes: %q has no bucket; write s3://bucket/prefix", p))
			}
		}
	}
	if c.PollInterval < time.Second {
		errs = append(errs, fmt.Errorf("poll_interval: must be at least 1s, got %s", c.PollInterval))
	}
	return errors.Join(errs...)
}
