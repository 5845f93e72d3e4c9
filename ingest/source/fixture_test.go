package source

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

const (
	acct   = "123456789012"
	flowID = "fl-0a1b2c3d4e5f67890"
)

// fixture is one object of the test tree, in both layouts, two regions and
// three days (one far outside the windows), plus objects that are not flow
// logs of interest.
type fixture struct {
	key  string
	time time.Time // zero: never listed
}

func fixtureTree() []fixture {
	var out []fixture
	days := []time.Time{
		time.Date(2024, 5, 20, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 6, 2, 0, 0, 0, 0, time.UTC),
	}
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		for _, day := range days {
			for _, hm := range []time.Duration{5 * time.Minute, 12*time.Hour + 5*time.Minute} {
				ts := day.Add(hm)
				name := fmt.Sprintf("%s_vpcflowlogs_%s_%s_%s_%08x", acct, region, flowID, ts.Format("20060102T1504Z"), ts.Unix())
				out = append(out,
					fixture{fmt.Sprintf("AWSLogs/%s/vpcflowlogs/%s/%s/%s.log.gz", acct, region, ts.Format("2006/01/02"), name), ts},
					fixture{fmt.Sprintf("hive/AWSLogs/aws-account-id=%s/aws-service=vpcflowlogs/aws-region=%s/%s/%s.log.parquet",
						acct, region, ts.Format("year=2006/month=01/day=02/hour=15"), name), ts},
				)
			}
		}
	}
	out = append(out,
		fixture{key: "AWSLogs/" + acct + "/elasticloadbalancing/us-east-1/2024/06/01/" + acct + "_elasticloadbalancing_us-east-1_app.lb_20240601T0005Z_10.0.0.1_x.log.gz"},
		fixture{key: "AWSLogs/" + acct + "/vpcflowlogs/us-east-1/2024/06/01/"}, // folder marker (S3 only)
	)
	return out
}

// expect returns the keys under prefix whose time is in w, sorted.
func expect(tree []fixture, prefix string, w Window) []string {
	var keys []string
	for _, f := range tree {
		if !f.time.IsZero() && len(f.key) >= len(prefix) && f.key[:len(prefix)] == prefix && w.Overlaps(f.time, 0) {
			keys = append(keys, f.key)
		}
	}
	slices.Sort(keys)
	return keys
}

type windowCase struct {
	name string
	w    Window
}

func windowCases() []windowCase {
	d := func(day, hour int) time.Time { return time.Date(2024, 6, day, hour, 0, 0, 0, time.UTC) }
	return []windowCase{
		{"open", Window{}},
		{"day 1", Window{Since: d(1, 0), Until: d(2, 0)}},
		{"across midnight", Window{Since: d(1, 6), Until: d(2, 6)}},
		{"since day 2", Window{Since: d(2, 0)}},
		{"until june", Window{Until: d(1, 0)}},
		{"empty", Window{Since: d(3, 0), Until: d(4, 0)}},
		{"one file", Window{Since: d(2, 12), Until: d(2, 13)}},
	}
}

func listKeys(t *testing.T, s *Source, src string, w Window) ([]string, []Object) {
	t.Helper()
	var keys []string
	var objs []Object
	err := s.List(t.Context(), src, w, func(o Object) error {
		keys = append(keys, o.Key)
		objs = append(objs, o)
		return nil
	})
	if err != nil {
		t.Fatalf("List(%s): %v", src, err)
	}
	slices.Sort(keys)
	return keys, objs
}

func filepathGlob(dir string) ([]string, error) { return filepath.Glob(filepath.Join(dir, "*")) }
