package source

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Layout is how flow-log keys name their partitions.
type Layout uint8

const (
	// LayoutUnknown is a key outside an AWSLogs/ tree.
	LayoutUnknown Layout = iota
	// LayoutAWS is AWSLogs/{acct}/vpcflowlogs/{region}/YYYY/MM/DD/[HH/].
	LayoutAWS
	// LayoutHive is AWSLogs/aws-account-id={acct}/aws-service=vpcflowlogs/
	// aws-region={region}/year=YYYY/month=MM/day=DD/[hour=HH/].
	LayoutHive
)

// String names the layout.
func (l Layout) String() string {
	switch l {
	case LayoutAWS:
		return "aws"
	case LayoutHive:
		return "hive"
	}
	return "unknown"
}

const (
	awsLogs     = "AWSLogs"
	flowService = "vpcflowlogs"
)

// Levels below AWSLogs/, counted by KeyInfo.Depth.
const (
	levelAccount = 1 + iota
	levelService
	levelRegion
	levelYear
	levelMonth
	levelDay
	levelHour
)

// KeyInfo is what a key or prefix tells about the flow logs under it.
type KeyInfo struct {
	// Layout is the partition naming, known from the service level on.
	Layout Layout
	// Depth counts the complete directory levels below AWSLogs/ (1 account,
	// 2 service, 3 region, 4 year, 5 month, 6 day, 7 hour); 0 outside.
	Depth int
	// Account, Service and Region come from the directories or, for
	// Account and Region, from the file name.
	Account, Service, Region string
	// FlowLogID comes from the file name (fl-…).
	FlowLogID string
	// Year, Month, Day and Hour are the date directories, valid up to Depth.
	Year, Month, Day, Hour int
	// FileTime is the file name's YYYYMMDDTHHmmZ stamp: when AWS closed the
	// file, the end of the records' aggregation window. Zero if absent.
	FileTime time.Time
}

// fileNameRE matches {acct}_vpcflowlogs_{region}_{flowlogid}_{YYYYMMDDTHHmmZ}_{hash}.log[.gz|.parquet].
var fileNameRE = regexp.MustCompile(`^([0-9]{12})_vpcflowlogs_([a-z0-9-]+)_(fl-[0-9a-zA-Z]+)_([0-9]{8}T[0-9]{4}Z)_[0-9a-zA-Z]+\.log(?:\.gz|\.parquet)?$`)

// ParseKey reads a key (bucket-relative, or a slash-separated file path) or a
// prefix. The part after the last slash is taken as a file name; a prefix
// therefore tells only what its complete directories tell.
func ParseKey(key string) KeyInfo {
	var k KeyInfo
	dirs := strings.Split(key, "/")
	name := dirs[len(dirs)-1]
	dirs = dirs[:len(dirs)-1]
	start := -1
	for i := len(dirs) - 1; i >= 0; i-- {
		if dirs[i] == awsLogs {
			start = i + 1
			break
		}
	}
	if start >= 0 {
		k.parseDirs(dirs[start:])
	}
	if m := fileNameRE.FindStringSubmatch(name); m != nil {
		if t, err := time.Parse("20060102T1504Z", m[4]); err == nil {
			k.FileTime = t
			if k.Account == "" {
				k.Account = m[1]
			}
			if k.Region == "" {
				k.Region = m[2]
			}
			k.FlowLogID = m[3]
		}
	}
	return k
}

func (k *KeyInfo) parseDirs(dirs []string) {
	for _, d := range dirs {
		saved := *k
		level := k.Depth + 1
		var ok bool
		switch level {
		case levelAccount:
			// Both layouts may carry the aws-account-id= form.
			k.Account = strings.TrimPrefix(d, "aws-account-id=")
			ok = k.Account != ""
		case levelService:
			svc, hive := strings.CutPrefix(d, "aws-service=")
			k.Service, ok = svc, svc != ""
			k.Layout = LayoutAWS
			if hive {
				k.Layout = LayoutHive
			}
		case levelRegion:
			k.Region, ok = k.part(d, "aws-region=")
		case levelYear:
			k.Year, ok = k.number(d, "year=", 1970, 9999)
		case levelMonth:
			k.Month, ok = k.number(d, "month=", 1, 12)
		case levelDay:
			k.Day, ok = k.number(d, "day=", 1, 31)
			if ok && time.Date(k.Year, time.Month(k.Month), k.Day, 0, 0, 0, 0, time.UTC).Day() != k.Day {
				ok = false // 31 in a 30-day month
			}
		case levelHour:
			k.Hour, ok = k.number(d, "hour=", 0, 23)
		}
		if !ok {
			*k = saved // a directory that does not fit leaves no trace
			return
		}
		k.Depth = level
	}
}

// part strips the Hive key= prefix, which must be there in the Hive layout
// and absent in the AWS one.
func (k *KeyInfo) part(d, hivePrefix string) (string, bool) {
	v, had := strings.CutPrefix(d, hivePrefix)
	if had != (k.Layout == LayoutHive) || v == "" {
		return "", false
	}
	return v, true
}

func (k *KeyInfo) number(d, hivePrefix string, lo, hi int) (int, bool) {
	v, ok := k.part(d, hivePrefix)
	if !ok || len(v) > 4 {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, false
	}
	return n, true
}

// IsFlowLogs reports whether the key may hold VPC flow logs: it is outside an
// AWSLogs/ tree, or inside one above or under the vpcflowlogs service (other
// services, such as elasticloadbalancing, share buckets).
func (k KeyInfo) IsFlowLogs() bool {
	return k.Depth < levelService || k.Service == flowService
}

// Time returns the most precise data time the key tells: the file-name stamp
// (span 0), else the start of the deepest date directory and its length.
// Zero if the key tells no time.
func (k KeyInfo) Time() (time.Time, time.Duration) {
	if !k.FileTime.IsZero() {
		return k.FileTime, 0
	}
	return k.dirRange()
}

// dirRange is the time range the date directories cover.
func (k KeyInfo) dirRange() (time.Time, time.Duration) {
	if k.Layout == LayoutUnknown {
		return time.Time{}, 0
	}
	switch {
	case k.Depth >= levelHour:
		return time.Date(k.Year, time.Month(k.Month), k.Day, k.Hour, 0, 0, 0, time.UTC), time.Hour
	case k.Depth >= levelDay:
		return time.Date(k.Year, time.Month(k.Month), k.Day, 0, 0, 0, 0, time.UTC), 24 * time.Hour
	case k.Depth >= levelMonth:
		t := time.Date(k.Year, time.Month(k.Month), 1, 0, 0, 0, 0, time.UTC)
		return t, t.AddDate(0, 1, 0).Sub(t)
	case k.Depth >= levelYear:
		t := time.Date(k.Year, 1, 1, 0, 0, 0, 0, time.UTC)
		return t, t.AddDate(1, 0, 0).Sub(t)
	}
	return time.Time{}, 0
}

// prune reports whether nothing under the directory prefix can be in w:
// another AWS service, or date directories outside the window.
func (k KeyInfo) prune(w Window) bool {
	if !k.IsFlowLogs() {
		return true
	}
	start, span := k.dirRange()
	return !start.IsZero() && !w.Overlaps(start, span)
}

// dayPrefix is the relative prefix of day d in layout l.
func dayPrefix(l Layout, d time.Time) string {
	if l == LayoutHive {
		return d.Format("year=2006/month=01/day=02/")
	}
	return d.Format("2006/01/02/")
}
