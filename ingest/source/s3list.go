package source

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// maxEnumeratedDays bounds how many day prefixes a region is listed by
// directly; wider windows discover the existing days with delimiters.
const maxEnumeratedDays = 62

// s3Lister walks one bucket. Above the day level it lists with Delimiter "/"
// and descends only into prefixes that can hold flow logs inside the window
// (accounts, vpcflowlogs, regions, years, months, days); at a region with a
// closed window it names the day prefixes directly; from a day down (or a
// region with an open window) it lists flat.
type s3Lister struct {
	client *s3.Client
	bucket string
	w      Window
	fn     func(Object) error
}

func (s *Source) listS3(ctx context.Context, src string, w Window, fn func(Object) error) error {
	bucket, prefix, err := parseS3URL(src)
	if err != nil {
		return err
	}
	client, err := s.s3(ctx)
	if err != nil {
		return err
	}
	l := &s3Lister{client: client, bucket: bucket, w: w, fn: fn}
	return l.walk(ctx, prefix)
}

func (l *s3Lister) walk(ctx context.Context, prefix string) error {
	info := ParseKey(prefix)
	if info.prune(l.w) {
		return nil
	}
	if prefix == "" || strings.HasSuffix(prefix, "/") {
		switch {
		case info.Depth >= levelDay, info.Depth >= levelRegion && l.w.Open():
			return l.list(ctx, prefix, "")
		case info.Depth == levelRegion:
			if days := l.w.days(maxEnumeratedDays); days != nil {
				for _, d := range days {
					if err := l.list(ctx, prefix+dayPrefix(info.Layout, d), ""); err != nil {
						return err
					}
				}
				return nil
			}
		}
	}
	return l.list(ctx, prefix, "/")
}

// list lists prefix, emitting objects and walking common prefixes.
func (l *s3Lister) list(ctx context.Context, prefix, delimiter string) error {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(l.bucket), Prefix: aws.String(prefix)}
	if delimiter != "" {
		in.Delimiter = aws.String(delimiter)
	}
	pages := s3.NewListObjectsV2Paginator(l.client, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list s3://%s/%s: %w", l.bucket, prefix, err)
		}
		for _, o := range page.Contents {
			if err := l.emit(o); err != nil {
				return err
			}
		}
		for _, cp := range page.CommonPrefixes {
			if err := l.walk(ctx, aws.ToString(cp.Prefix)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (l *s3Lister) emit(o types.Object) error {
	key := aws.ToString(o.Key)
	if strings.HasSuffix(key, "/") { // folder marker
		return nil
	}
	info := ParseKey(key)
	t, span := info.Time()
	if !info.IsFlowLogs() || !l.w.Overlaps(t, span) {
		return nil
	}
	return l.fn(Object{
		URL:     s3URL(l.bucket, key),
		Key:     key,
		Size:    aws.ToInt64(o.Size),
		ETag:    strings.Trim(aws.ToString(o.ETag), `"`),
		ModTime: aws.ToTime(o.LastModified),
		Time:    t,
		Span:    span,
		Account: info.Account,
		Region:  info.Region,
	})
}
