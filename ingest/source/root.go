// Package source finds the flow-log objects that `furrow ingest flowlogs`
// and `furrow serve` read: local files and directories, and S3 prefixes
// (AWS or an S3-compatible store). It lists them within a data-time window,
// skipping whole date partitions outside it, opens them for streaming or
// random access, gives each a stable identity for the exactly-once ledger,
// and polls prefixes for new objects.
//
// It does not decode flow logs: the ingest pipeline does.
package source

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Object is one flow-log file or S3 object.
type Object struct {
	// URL is the file path as listed, or s3://bucket/key.
	URL string
	// Key is the path relative to the listed source (slash-separated), or
	// the S3 key.
	Key string
	// Size is the length in bytes.
	Size int64
	// ETag is the S3 ETag without quotes, or for a file the hex SHA-256 of
	// its content: either way it changes when the content does.
	ETag string
	// ModTime is the S3 LastModified or the file's mtime: when it was
	// written, not what it holds.
	ModTime time.Time
	// Time is the data time the key tells (see KeyInfo.Time); zero if
	// unknown.
	Time time.Time
	// Span is how long after Time the data may run: 0 for a file-name
	// stamp, an hour or a day for a partition directory.
	Span time.Duration
	// Account and Region come from the key when it tells them.
	Account, Region string
}

// IsS3 reports whether the object lives in S3.
func (o Object) IsS3() bool { return strings.HasPrefix(o.URL, s3Scheme) }

// Errors callers may test with errors.Is.
var (
	// ErrChanged means an object's content changed between listing and
	// reading; list again to get its new identity.
	ErrChanged = errors.New("object changed since it was listed")
	// ErrNotFound means a source names nothing.
	ErrNotFound = errors.New("source not found")
)

// Dependencies are what a Source may be given instead of building it.
type Dependencies struct {
	// S3 is the client for s3:// sources; nil builds one from the
	// Configuration on first use (see NewS3Client).
	S3 *s3.Client
}

// Source lists and opens objects. It is safe for concurrent use.
type Source struct {
	cfg    Configuration
	s3     func(context.Context) (*s3.Client, error)
	hashes hashCache
}

// New returns a Source. It does no I/O: the S3 client is built on first use,
// so file-only runs need no AWS configuration.
func New(cfg Configuration, deps Dependencies) *Source {
	s := &Source{cfg: cfg}
	if deps.S3 != nil {
		s.s3 = func(context.Context) (*s3.Client, error) { return deps.S3, nil }
	} else {
		var mu sync.Mutex
		var client *s3.Client
		s.s3 = func(ctx context.Context) (*s3.Client, error) {
			mu.Lock()
			defer mu.Unlock()
			if client != nil {
				return client, nil
			}
			c, err := NewS3Client(ctx, cfg)
			if err != nil {
				return nil, err // not cached: a later call may succeed
			}
			client = c
			return client, nil
		}
	}
	return s
}

// List calls fn for each object of src inside w, in key order within each
// partition. src is a file, a directory (walked recursively) or
// s3://bucket/prefix. Date partitions outside w are not listed at all. Files
// are hashed as they are listed (see ID). An error from fn stops the listing
// and is returned as is.
func (s *Source) List(ctx context.Context, src string, w Window, fn func(Object) error) error {
	if strings.HasPrefix(src, s3Scheme) {
		return s.listS3(ctx, src, w, fn)
	}
	return s.listFiles(ctx, src, w, fn)
}

// Open streams an object's content. For a file, the stream fails with
// ErrChanged at its end if the content no longer matches obj.ETag; for S3,
// opening fails with ErrChanged if the ETag no longer matches. Either way,
// what is read is exactly what ID(obj) names.
func (s *Source) Open(ctx context.Context, obj Object) (io.ReadCloser, error) {
	if obj.IsS3() {
		return s.openS3(ctx, obj)
	}
	return openFile(obj)
}

// OpenReaderAt gives random access to an object, as Parquet readers need.
// cleanup releases it (and deletes a downloaded copy). S3 objects are
// downloaded to a temporary file first: see downloadS3 for why.
func (s *Source) OpenReaderAt(ctx context.Context, obj Object) (r io.ReaderAt, size int64, cleanup func() error, err error) {
	if obj.IsS3() {
		return s.downloadS3(ctx, obj)
	}
	return openFileAt(obj)
}
