package source

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseKey(t *testing.T) {
	ts := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
	cases := []struct {
		name     string
		key      string
		want     KeyInfo
		wantTime time.Time
		wantSpan time.Duration
	}{{
		name: "aws daily, text",
		key:  "AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/06/20/123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20180620T1620Z_fe123456.log.gz",
		want: KeyInfo{Layout: LayoutAWS, Depth: levelDay, Account: "123456789012", Service: "vpcflowlogs",
			Region: "us-east-1", FlowLogID: "fl-1234abcd", Year: 2018, Month: 6, Day: 20, FileTime: ts("2018-06-20T16:20:00Z")},
		wantTime: ts("2018-06-20T16:20:00Z"),
	}, {
		name: "aws hourly with bucket prefix, parquet",
		key:  "my-logs/prod/AWSLogs/123456789012/vpcflowlogs/eu-west-1/2024/06/01/23/123456789012_vpcflowlogs_eu-west-1_fl-0a1b2c3d4e5f67890_20240601T2355Z_0badf00d.log.parquet",
		want: KeyInfo{Layout: LayoutAWS, Depth: levelHour, Account: "123456789012", Service: "vpcflowlogs",
			Region: "eu-west-1", FlowLogID: "fl-0a1b2c3d4e5f67890", Year: 2024, Month: 6, Day: 1, Hour: 23, FileTime: ts("2024-06-01T23:55:00Z")},
		wantTime: ts("2024-06-01T23:55:00Z"),
	}, {
		name: "aws with aws-account-id= account",
		key:  "AWSLogs/aws-account-id=123456789012/vpcflowlogs/us-east-1/2024/06/01/x.log.gz",
		want: KeyInfo{Layout: LayoutAWS, Depth: levelDay, Account: "123456789012", Service: "vpcflowlogs",
			Region: "us-east-1", Year: 2024, Month: 6, Day: 1},
		wantTime: ts("2024-06-01T00:00:00Z"), wantSpan: 24 * time.Hour,
	}, {
		name: "hive hourly",
		key:  "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/year=2021/month=09/day=28/hour=20/123456789012_vpcflowlogs_us-east-1_fl-06a0eeb1087d806aa_20210928T2000Z_4f8bcb7a.log.parquet",
		want: KeyInfo{Layout: LayoutHive, Depth: levelHour, Account: "123456789012", Service: "vpcflowlogs",
			Region: "us-east-1", FlowLogID: "fl-06a0eeb1087d806aa", Year: 2021, Month: 9, Day: 28, Hour: 20, FileTime: ts("2021-09-28T20:00:00Z")},
		wantTime: ts("2021-09-28T20:00:00Z"),
	}, {
		name: "hive daily, renamed file: time from the day",
		key:  "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=ap-northeast-2/year=2024/month=02/day=29/part-0.log.gz",
		want: KeyInfo{Layout: LayoutHive, Depth: levelDay, Account: "123456789012", Service: "vpcflowlogs",
			Region: "ap-northeast-2", Year: 2024, Month: 2, Day: 29},
		wantTime: ts("2024-02-29T00:00:00Z"), wantSpan: 24 * time.Hour,
	}, {
		name: "hour partition without file stamp",
		key:  "AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/06/01/07/data.gz",
		want: KeyInfo{Layout: LayoutAWS, Depth: levelHour, Account: "123456789012", Service: "vpcflowlogs",
			Region: "us-east-1", Year: 2024, Month: 6, Day: 1, Hour: 7},
		wantTime: ts("2024-06-01T07:00:00Z"), wantSpan: time.Hour,
	}, {
		name: "invalid day stops the date",
		key:  "AWSLogs/123456789012/vpcflowlogs/us-east-1/2023/02/30/x.log.gz",
		want: KeyInfo{Layout: LayoutAWS, Depth: levelMonth, Account: "123456789012", Service: "vpcflowlogs",
			Region: "us-east-1", Year: 2023, Month: 2},
		wantTime: ts("2023-02-01T00:00:00Z"), wantSpan: 28 * 24 * time.Hour,
	}, {
		name: "hive keys in aws layout are not dates",
		key:  "AWSLogs/123456789012/vpcflowlogs/us-east-1/year=2024/x.log.gz",
		want: KeyInfo{Layout: LayoutAWS, Depth: levelRegion, Account: "123456789012", Service: "vpcflowlogs", Region: "us-east-1"},
	}, {
		name: "other service",
		key:  "AWSLogs/123456789012/elasticloadbalancing/us-east-1/2024/06/01/x.log.gz",
		want: KeyInfo{Layout: LayoutAWS, Depth: levelDay, Account: "123456789012", Service: "elasticloadbalancing",
			Region: "us-east-1", Year: 2024, Month: 6, Day: 1},
		wantTime: ts("2024-06-01T00:00:00Z"), wantSpan: 24 * time.Hour,
	}, {
		name:     "file name only",
		key:      "/tmp/dl/123456789012_vpcflowlogs_us-west-2_fl-1234abcd_20240601T0005Z_abcdef01.log.gz",
		want:     KeyInfo{Account: "123456789012", Region: "us-west-2", FlowLogID: "fl-1234abcd", FileTime: ts("2024-06-01T00:05:00Z")},
		wantTime: ts("2024-06-01T00:05:00Z"),
	}, {
		name: "prefix at region",
		key:  "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/",
		want: KeyInfo{Layout: LayoutHive, Depth: levelRegion, Account: "123456789012", Service: "vpcflowlogs", Region: "us-east-1"},
	}, {
		name:     "partial prefix segment is not a directory",
		key:      "AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/0",
		want:     KeyInfo{Layout: LayoutAWS, Depth: levelYear, Account: "123456789012", Service: "vpcflowlogs", Region: "us-east-1", Year: 2024},
		wantTime: ts("2024-01-01T00:00:00Z"), wantSpan: 366 * 24 * time.Hour,
	}, {
		name: "unrelated",
		key:  "README.md",
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ParseKey(c.key)
			require.Equal(t, c.want, got)
			tm, span := got.Time()
			require.Equal(t, c.wantTime, tm)
			require.Equal(t, c.wantSpan, span)
		})
	}
}

func TestWindowOverlaps(t *testing.T) {
	day := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	h := time.Hour
	cases := []struct {
		name  string
		w     Window
		start time.Time
		span  time.Duration
		want  bool
	}{
		{"open, unknown time", Window{}, time.Time{}, 0, true},
		{"closed, unknown time", Window{Since: day}, time.Time{}, 0, false},
		{"instant at since", Window{Since: day, Until: day.Add(h)}, day, 0, true},
		{"instant at until", Window{Since: day, Until: day.Add(h)}, day.Add(h), 0, false},
		{"instant before since", Window{Since: day}, day.Add(-time.Minute), 0, false},
		{"day overlaps since", Window{Since: day.Add(23 * h)}, day, 24 * h, true},
		{"day ends at since", Window{Since: day.Add(24 * h)}, day, 24 * h, false},
		{"day starts at until", Window{Until: day}, day, 24 * h, false},
		{"day inside", Window{Since: day.Add(-h), Until: day.Add(25 * h)}, day, 24 * h, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, c.w.Overlaps(c.start, c.span))
		})
	}
}

func TestWindowDays(t *testing.T) {
	d := func(day, hour int) time.Time { return time.Date(2024, 6, day, hour, 0, 0, 0, time.UTC) }
	require.Equal(t, []time.Time{d(1, 0), d(2, 0)}, Window{Since: d(1, 6), Until: d(2, 6)}.days(10))
	require.Equal(t, []time.Time{d(1, 0)}, Window{Since: d(1, 0), Until: d(2, 0)}.days(10))
	require.Nil(t, Window{Since: d(1, 0)}.days(10))
	require.Nil(t, Window{Since: d(1, 0), Until: d(20, 0)}.days(10))
	require.Equal(t, "year=2024/month=06/day=01/", dayPrefix(LayoutHive, d(1, 0)))
	require.Equal(t, "2024/06/01/", dayPrefix(LayoutAWS, d(1, 0)))
}
