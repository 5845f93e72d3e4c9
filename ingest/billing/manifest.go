package billing

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

// Manifest is an AWS report manifest: CUR 1.0's `<report>-Manifest.json`
// (assemblyId, reportKeys: keys in the report's bucket) or CUR 2.0 /
// Data Exports' `metadata/BILLING_PERIOD=YYYY-MM/<export>-Manifest.json`
// (executionId, dataFiles: s3:// URIs). The files it lists are one
// delivery: its part files are combined, never replace each other.
type Manifest struct {
	// Assembly is the assemblyId (CUR 1.0) or executionId (CUR 2.0).
	Assembly string
	// Period is the billing period's start, YYYY-MM-DD, when it says.
	Period string
	// Keys are the data files' keys in their bucket, in manifest order.
	Keys []string
}

// manifestJSON holds the fields read; the rest (columns, compression…)
// is AWS's and ignored.
type manifestJSON struct {
	AssemblyID    string   `json:"assemblyId"`
	ExecutionID   string   `json:"executionId"`
	ReportKeys    []string `json:"reportKeys"`
	DataFiles     []string `json:"dataFiles"`
	BillingPeriod struct {
		Start string `json:"start"`
	} `json:"billingPeriod"`
}

// ErrManifest is wrapped by the errors of a manifest that cannot be used.
var ErrManifest = errors.New("not a usable CUR manifest")

// IsManifest tells a manifest by its name, as AWS writes it.
func IsManifest(name string) bool { return strings.HasSuffix(path.Base(name), "Manifest.json") }

// ParseManifest reads a manifest.
func ParseManifest(b []byte) (Manifest, error) {
	var j manifestJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return Manifest{}, fmt.Errorf("%w: %v", ErrManifest, err)
	}
	m := Manifest{Assembly: j.AssemblyID}
	if m.Assembly == "" {
		m.Assembly = j.ExecutionID
	}
	for _, k := range j.ReportKeys {
		m.Keys = append(m.Keys, strings.TrimPrefix(k, "/"))
	}
	for _, u := range j.DataFiles {
		if rest, ok := strings.CutPrefix(u, "s3://"); ok {
			_, u, _ = strings.Cut(rest, "/")
		}
		m.Keys = append(m.Keys, u)
	}
	for _, k := range m.Keys {
		if k == "" || strings.HasSuffix(k, "/") {
			return Manifest{}, fmt.Errorf("%w: a data file without a name", ErrManifest)
		}
	}
	if m.Assembly == "" || len(m.Keys) == 0 {
		return Manifest{}, fmt.Errorf("%w: no assemblyId/executionId or no reportKeys/dataFiles", ErrManifest)
	}
	// 20231101T000000.000Z (CUR 1.0) or 2023-11-01T00:00:00.000Z.
	if s := strings.ReplaceAll(j.BillingPeriod.Start, "-", ""); len(s) >= 8 {
		if t, err := time.Parse("20060102", s[:8]); err == nil {
			m.Period = t.Format(time.DateOnly)
		}
	}
	return m, nil
}

// deliveryID names a manifest's delivery: its assembly, period and files,
// so the same manifest seen again (or its copy in the assembly folder) is
// the same delivery, and an execution id shared by two periods is not.
func (m Manifest) deliveryID() string {
	keys := append([]string(nil), m.Keys...)
	sort.Strings(keys)
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n", m.Assembly, m.Period)
	for _, k := range keys {
		fmt.Fprintf(h, "%s\n", path.Base(k))
	}
	return "billing:" + hex.EncodeToString(h.Sum(nil))[:32]
}

// entry is one file of a tree (a directory or an S3 prefix).
type entry struct {
	Key     string // slash-separated, relative to the tree (S3: the object key)
	ModTime time.Time
}

// planned is a delivery found in a tree: the keys of its files.
type planned struct {
	Manifest string // key of the manifest; empty for plain files
	ID       string // empty: a hash of the files' contents
	Period   string
	Keys     []string
	Version  time.Time
}

// periodDir finds a billing period in a key: CUR 2.0's BILLING_PERIOD=YYYY-MM
// or CUR 1.0's yyyymmdd-yyyymmdd folder.
var periodDir = regexp.MustCompile(`(?:BILLING_PERIOD=(\d{4}-\d{2})|/(\d{8})-\d{8}/)`)

// resolve finds key in a tree: the key itself, or its longest tail that
// is there (a local copy of a bucket starts below the bucket's prefix).
func resolve(have map[string]entry, key string) (string, bool) {
	for k := key; k != ""; {
		if _, ok := have[k]; ok {
			return k, true
		}
		_, rest, ok := strings.Cut(k, "/")
		if !ok {
			return "", false
		}
		k = rest
	}
	return "", false
}

// plan turns a tree into deliveries. The newest manifest of each report and
// billing period is a delivery of the files it lists (a file it lists and
// the tree lacks is an error: a partial delivery would replace the whole
// period). Without manifests, every bill file is one delivery.
func plan(entries []entry, read func(e entry) ([]byte, error)) ([]planned, error) {
	have := map[string]entry{}
	var manifests []entry
	for _, e := range entries {
		have[e.Key] = e
		if IsManifest(e.Key) {
			manifests = append(manifests, e)
		}
	}
	if len(manifests) == 0 {
		var p planned
		for _, e := range entries {
			if isBillFile(e.Key) {
				p.Keys = append(p.Keys, e.Key)
			}
		}
		if len(p.Keys) == 0 {
			return nil, nil
		}
		sort.Strings(p.Keys)
		return []planned{p}, nil
	}
	// The newest per (report name, period); on equal times the shallower
	// (CUR 1.0 keeps the current manifest above the assembly folders).
	sort.Slice(manifests, func(i, j int) bool {
		a, b := manifests[i], manifests[j]
		if !a.ModTime.Equal(b.ModTime) {
			return a.ModTime.After(b.ModTime)
		}
		return strings.Count(a.Key, "/") < strings.Count(b.Key, "/")
	})
	seen := map[string]bool{}
	var out []planned
	var errs []error
	for _, me := range manifests {
		b, err := read(me)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", me.Key, err))
			continue
		}
		m, err := ParseManifest(b)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", me.Key, err))
			continue
		}
		period := m.Period
		if period == "" {
			if g := periodDir.FindStringSubmatch("/" + me.Key); g != nil {
				period = g[1] + g[2]
			}
		}
		group := path.Base(me.Key) + "|" + period
		if seen[group] {
			continue // an older assembly of the same period
		}
		seen[group] = true
		p := planned{Manifest: me.Key, ID: m.deliveryID(), Period: period, Version: me.ModTime}
		for _, k := range m.Keys {
			local, ok := resolve(have, k)
			if !ok {
				errs = append(errs, fmt.Errorf("%s: lists %s, which is not there (%w)", me.Key, k, ErrManifest))
				p.Keys = nil
				break
			}
			p.Keys = append(p.Keys, local)
		}
		if p.Keys != nil {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Manifest < out[j].Manifest })
	return out, errors.Join(errs...)
}

// isBillFile tells the data files of a bill by their names.
func isBillFile(name string) bool {
	n := strings.ToLower(path.Base(name))
	for _, ext := range []string{".csv", ".csv.gz", ".parquet"} {
		if strings.HasSuffix(n, ext) {
			return true
		}
	}
	return false
}

// manifestCache keeps the manifests a poller has read, by key and time:
// a report folder keeps every old assembly's manifest, and each poll would
// otherwise GET them all again.
type manifestCache struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (c *manifestCache) read(e entry, read func() ([]byte, error)) ([]byte, error) {
	if c == nil {
		return read()
	}
	k := e.Key + "@" + e.ModTime.UTC().Format(time.RFC3339Nano)
	c.mu.Lock()
	b, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return b, nil
	}
	b, err := read()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string][]byte{}
	}
	c.m[k] = b
	c.mu.Unlock()
	return b, nil
}
