package miniotest_test

import (
	"context"
	"io"
	"net"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/internal/testenv/miniotest"
)

func TestMain(m *testing.M) { miniotest.Main(m) }

func TestStartPutGet(t *testing.T) {
	s := miniotest.Start(t)
	u, err := url.Parse(s.Endpoint)
	require.NoError(t, err)
	host, _, err := net.SplitHostPort(u.Host)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1", host)

	s.MakeBucket(t, "bucket-one")
	etag := s.PutObject(t, "bucket-one", "a/b.txt", []byte("hello"))
	require.Equal(t, "5d41402abc4b2a76b9719d911017c592", etag) // md5("hello")

	out, err := s.Client(t).GetObject(context.Background(), &s3.GetObjectInput{
		Bucket: aws.String("bucket-one"), Key: aws.String("a/b.txt"),
	})
	require.NoError(t, err)
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	require.NoError(t, err)
	require.Equal(t, "hello", string(body))
}

func TestShared(t *testing.T) {
	a := miniotest.Shared(t)
	b := miniotest.Shared(t)
	require.Same(t, a, b)
	a.MakeBucket(t, "shared-bucket")
}
