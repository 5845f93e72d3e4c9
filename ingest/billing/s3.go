package billing

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/furrowdev/furrow/ingest/source"
)

// maxManifestBytes bounds a manifest read into memory (AWS's are a few
// hundred KB with every column listed).
const maxManifestBytes = 64 << 20

// S3 reads s3:// sources with the S3 settings of ingest/source (endpoint,
// region, credentials). The files of a delivery are copied to a temporary
// folder for the engine, which reads local files: the engine's own s3()
// function would need the credentials in the SQL text (query log, error
// messages) and does not know the SDK's credential chain (SSO, web
// identity, IMDS); a delivery is a few files read once, so a copy costs
// one pass over the bytes.
type S3 struct {
	tempDir string
	mu      sync.Mutex
	client  *s3.Client
	newC    func(context.Context) (*s3.Client, error)
}

// NewS3 returns an S3 reader; the client is built on first use, so runs
// without s3:// sources need no AWS configuration.
func NewS3(cfg source.Configuration, tempDir string) *S3 {
	return &S3{tempDir: tempDir, newC: func(ctx context.Context) (*s3.Client, error) { return source.NewS3Client(ctx, cfg) }}
}

// NewS3WithClient returns an S3 reader on a given client.
func NewS3WithClient(c *s3.Client, tempDir string) *S3 {
	return &S3{tempDir: tempDir, client: c}
}

func (r *S3) get(ctx context.Context) (*s3.Client, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.client == nil {
		c, err := r.newC(ctx)
		if err != nil {
			return nil, err
		}
		r.client = c
	}
	return r.client, nil
}

func (r *S3) tree(ctx context.Context, url string) (tree, error) {
	bucket, prefix, _ := strings.Cut(strings.TrimPrefix(url, "s3://"), "/")
	if bucket == "" {
		return nil, fmt.Errorf("%q has no bucket: write s3://bucket/prefix", url)
	}
	c, err := r.get(ctx)
	if err != nil {
		return nil, err
	}
	return s3Tree{c: c, bucket: bucket, prefix: prefix, tempDir: r.tempDir}, nil
}

// s3Tree is a prefix of a bucket; its keys are the objects' keys.
type s3Tree struct {
	c              *s3.Client
	bucket, prefix string
	tempDir        string
}

func (t s3Tree) url(key string) string {
	if key == "" {
		key = t.prefix
	}
	return "s3://" + t.bucket + "/" + key
}

func (t s3Tree) list(ctx context.Context) ([]entry, error) {
	var out []entry
	pages := s3.NewListObjectsV2Paginator(t.c, &s3.ListObjectsV2Input{Bucket: aws.String(t.bucket), Prefix: aws.String(t.prefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", t.url(""), err)
		}
		for _, o := range page.Contents {
			k := aws.ToString(o.Key)
			if !strings.HasSuffix(k, "/") {
				out = append(out, entry{Key: k, ModTime: aws.ToTime(o.LastModified)})
			}
		}
	}
	return out, nil
}

func (t s3Tree) read(ctx context.Context, key string) ([]byte, error) {
	out, err := t.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(t.bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", t.url(key), err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(io.LimitReader(out.Body, maxManifestBytes+1))
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", t.url(key), err)
	}
	if len(b) > maxManifestBytes {
		return nil, fmt.Errorf("%s: over %d bytes: %w", t.url(key), maxManifestBytes, ErrManifest)
	}
	return b, nil
}

// local downloads keys into a new folder, each under its own numbered
// folder so that equal base names (part files of two reports) cannot
// collide and the engine still sees the original name (.gz, .parquet).
func (t s3Tree) local(ctx context.Context, keys []string) ([]string, func(), error) {
	dir, err := os.MkdirTemp(t.tempDir, "furrow-billing-")
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() { _ = os.RemoveAll(dir) }
	out := make([]string, len(keys))
	for i, k := range keys {
		p := filepath.Join(dir, strconv.Itoa(i), path.Base(k))
		if err := t.download(ctx, k, p); err != nil {
			cleanup()
			return nil, nil, err
		}
		out[i] = p
	}
	return out, cleanup, nil
}

func (t s3Tree) download(ctx context.Context, key, p string) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	out, err := t.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(t.bucket), Key: aws.String(key)})
	if err != nil {
		return fmt.Errorf("get %s: %w", t.url(key), err)
	}
	defer out.Body.Close()
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, out.Body); err != nil {
		f.Close()
		return fmt.Errorf("get %s: %w", t.url(key), err)
	}
	return f.Close()
}
