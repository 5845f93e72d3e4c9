package source

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/internal/testenv/miniotest"
)

func TestMain(m *testing.M) { miniotest.Main(m) }

// uploadTree puts the fixture tree in a new bucket and returns key → ETag.
func uploadTree(t *testing.T, srv *miniotest.Server, bucket string, tree []fixture) map[string]string {
	t.Helper()
	srv.MakeBucket(t, bucket)
	etags := map[string]string{}
	for _, f := range tree {
		etags[f.key] = srv.PutObject(t, bucket, f.key, []byte("content of "+f.key))
	}
	return etags
}

// prefixRecorder records the prefix of every ListObjectsV2 request.
type prefixRecorder struct {
	mu       sync.Mutex
	prefixes []string
}

func (r *prefixRecorder) Do(req *http.Request) (*http.Response, error) {
	if q := req.URL.Query(); q.Get("list-type") == "2" {
		r.mu.Lock()
		r.prefixes = append(r.prefixes, q.Get("prefix"))
		r.mu.Unlock()
	}
	return http.DefaultClient.Do(req)
}

func (r *prefixRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.prefixes
	r.prefixes = nil
	return p
}

func TestS3ListWindows(t *testing.T) {
	srv := miniotest.Shared(t)
	tree := fixtureTree()
	etags := uploadTree(t, srv, "windows", tree)
	rec := &prefixRecorder{}
	client := s3.New(srv.Client(t).Options(), func(o *s3.Options) { o.HTTPClient = rec })
	s := New(DefaultConfiguration(), Dependencies{S3: client})

	for _, sub := range []string{
		"", "AWSLogs/", "AWSLogs/" + acct, "hive/",
		"AWSLogs/" + acct + "/vpcflowlogs/eu-west-1/",
		"hive/AWSLogs/aws-account-id=" + acct + "/aws-service=vpcflowlogs/aws-region=us-east-1/",
	} {
		for _, c := range windowCases() {
			t.Run(sub+" "+c.name, func(t *testing.T) {
				keys, objs := listKeys(t, s, "s3://windows/"+sub, c.w)
				require.Equal(t, expect(tree, sub, c.w), keys)
				for _, o := range objs {
					require.Equal(t, etags[o.Key], o.ETag)
					require.Equal(t, "s3://windows/"+o.Key, o.URL)
					require.Equal(t, int64(len("content of "+o.Key)), o.Size)
					require.False(t, o.ModTime.IsZero())
					require.Equal(t, acct, o.Account)
				}
				// No day partition outside the window was listed, and no
				// other AWS service.
				for _, p := range rec.take() {
					info := ParseKey(p)
					require.True(t, info.IsFlowLogs(), "listed %q", p)
					if info.Depth >= levelDay {
						start, span := info.dirRange()
						require.True(t, c.w.Overlaps(start, span), "listed %q outside %+v", p, c.w)
					}
				}
			})
		}
	}
}

func TestS3ListRegionEnumeratesDays(t *testing.T) {
	srv := miniotest.Shared(t)
	uploadTree(t, srv, "enumerate", fixtureTree())
	rec := &prefixRecorder{}
	client := s3.New(srv.Client(t).Options(), func(o *s3.Options) { o.HTTPClient = rec })
	s := New(DefaultConfiguration(), Dependencies{S3: client})
	w := windowCases()[2].w // across midnight
	region := "AWSLogs/" + acct + "/vpcflowlogs/us-east-1/"
	listKeys(t, s, "s3://enumerate/"+region, w)
	require.Equal(t, []string{region + "2024/06/01/", region + "2024/06/02/"}, rec.take())
}

// isolateAWSEnv keeps the developer's AWS settings out of a test.
func isolateAWSEnv(t *testing.T) {
	for _, k := range []string{"AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
		"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent/furrow-test")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/furrow-test")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func TestS3ConfigurationPaths(t *testing.T) {
	srv := miniotest.Shared(t)
	srv.MakeBucket(t, "config")
	key := "AWSLogs/" + acct + "/vpcflowlogs/us-east-1/2024/06/01/" + acct + "_vpcflowlogs_us-east-1_" + flowID + "_20240601T0005Z_abcdef01.log.gz"
	etag := srv.PutObject(t, "config", key, []byte("hello"))

	check := func(t *testing.T, cfg Configuration) error {
		t.Helper()
		s := New(cfg, Dependencies{})
		var got []Object
		err := s.List(t.Context(), "s3://config/", Window{}, func(o Object) error { got = append(got, o); return nil })
		if err != nil {
			return err
		}
		require.Len(t, got, 1)
		require.Equal(t, etag, got[0].ETag)
		r, err := s.Open(t.Context(), got[0])
		require.NoError(t, err)
		defer r.Close()
		b, err := io.ReadAll(r)
		require.NoError(t, err)
		require.Equal(t, "hello", string(b))
		return nil
	}
	base := DefaultConfiguration()
	base.Endpoint, base.PathStyle, base.Region = srv.Endpoint, true, srv.Region

	t.Run("static credentials from configuration", func(t *testing.T) {
		isolateAWSEnv(t)
		cfg := base
		cfg.AccessKeyID, cfg.SecretAccessKey = srv.AccessKey, Secret(srv.SecretKey)
		require.NoError(t, cfg.Validate())
		require.NoError(t, check(t, cfg))
	})
	t.Run("credentials from environment", func(t *testing.T) {
		isolateAWSEnv(t)
		t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
		t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
		require.NoError(t, check(t, base))
	})
	t.Run("endpoint and region from environment", func(t *testing.T) {
		isolateAWSEnv(t)
		t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
		t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
		t.Setenv("AWS_ENDPOINT_URL_S3", srv.Endpoint)
		t.Setenv("AWS_REGION", srv.Region)
		cfg := DefaultConfiguration()
		cfg.PathStyle = true
		require.NoError(t, check(t, cfg))
	})
	t.Run("wrong credentials fail", func(t *testing.T) {
		isolateAWSEnv(t)
		cfg := base
		cfg.AccessKeyID, cfg.SecretAccessKey = srv.AccessKey, "wrong-secret"
		err := check(t, cfg)
		require.Error(t, err)
		require.NotContains(t, err.Error(), srv.SecretKey)
	})
}

func TestS3OpenPinnedToETag(t *testing.T) {
	srv := miniotest.Shared(t)
	srv.MakeBucket(t, "open")
	key := "hive/AWSLogs/aws-account-id=" + acct + "/aws-service=vpcflowlogs/aws-region=us-east-1/year=2024/month=06/day=01/hour=00/" +
		acct + "_vpcflowlogs_us-east-1_" + flowID + "_20240601T0005Z_abcdef01.log.parquet"
	body := bytes.Repeat([]byte("parquet!"), 1000)
	srv.PutObject(t, "open", key, body)
	cfg := DefaultConfiguration()
	cfg.TempDir = t.TempDir()
	s := New(cfg, Dependencies{S3: srv.Client(t)})
	_, objs := listKeys(t, s, "s3://open/hive/", Window{})
	require.Len(t, objs, 1)
	obj := objs[0]

	ra, size, cleanup, err := s.OpenReaderAt(t.Context(), obj)
	require.NoError(t, err)
	require.Equal(t, int64(len(body)), size)
	buf := make([]byte, 8)
	_, err = ra.ReadAt(buf, size-8)
	require.NoError(t, err)
	require.Equal(t, "parquet!", string(buf))
	require.NoError(t, cleanup())
	left, err := filepathGlob(cfg.TempDir)
	require.NoError(t, err)
	require.Empty(t, left, "cleanup removes the download")

	srv.PutObject(t, "open", key, []byte("rewritten"))
	_, err = s.Open(t.Context(), obj)
	require.True(t, errors.Is(err, ErrChanged), "got %v", err)
	_, _, _, err = s.OpenReaderAt(t.Context(), obj)
	require.True(t, errors.Is(err, ErrChanged), "got %v", err)
	require.Equal(t, "s3-etag:"+obj.ETag+"?size="+strconv.FormatInt(obj.Size, 10), ID(obj))
	require.True(t, strings.HasPrefix(Location(obj), "s3://open/hive/AWSLogs/"))
}
