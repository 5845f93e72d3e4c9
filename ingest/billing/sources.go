package billing

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/furrowdev/furrow/store"
)

// tree is where bills are found: a local directory or an S3 prefix.
type tree interface {
	// url names a key for people and the ledger.
	url(key string) string
	list(ctx context.Context) ([]entry, error)
	read(ctx context.Context, key string) ([]byte, error)
	// local gives paths the engine can read; cleanup removes copies.
	local(ctx context.Context, keys []string) (paths []string, cleanup func(), err error)
}

// localTree is a directory.
type localTree struct{ root string }

func (t localTree) url(key string) string { return filepath.Join(t.root, filepath.FromSlash(key)) }

func (t localTree) list(ctx context.Context) ([]entry, error) {
	var out []entry
	err := filepath.WalkDir(t.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(t.root, p)
		if err != nil {
			return err
		}
		out = append(out, entry{Key: filepath.ToSlash(rel), ModTime: info.ModTime()})
		return nil
	})
	return out, err
}

func (t localTree) read(_ context.Context, key string) ([]byte, error) {
	return os.ReadFile(t.url(key))
}

func (t localTree) local(_ context.Context, keys []string) ([]string, func(), error) {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = t.url(k)
	}
	return out, func() {}, nil
}

// Options are what IngestSources needs besides the store.
type Options struct {
	// Version is furrow's version, recorded in the ledger.
	Version string
	// Now is the load time.
	Now time.Time
	// S3 reads s3:// sources; nil refuses them.
	S3 *S3

	cache *manifestCache // the poller's; nil reads every manifest
}

// IngestSources loads what args name: manifests (each the delivery it
// lists), directories or S3 prefixes (the newest manifest of each report
// and billing period; without manifests, their bill files as one delivery),
// and plain files (one delivery together). Deliveries already loaded change
// nothing. It goes on past a delivery that fails and returns every error.
func IngestSources(ctx context.Context, s store.Store, args []string, opts Options) ([]Report, error) {
	var reports []Report
	var errs []error
	var plain []string
	for _, arg := range args {
		if strings.HasPrefix(arg, "s3://") {
			if opts.S3 == nil {
				errs = append(errs, fmt.Errorf("%s: no S3 access configured", arg))
				continue
			}
			t, err := opts.S3.tree(ctx, arg)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			r, err := ingestTree(ctx, s, t, "", opts)
			reports = append(reports, r...)
			errs = append(errs, err)
			continue
		}
		info, err := os.Stat(arg)
		switch {
		case err != nil:
			errs = append(errs, err)
		case info.IsDir():
			r, err := ingestTree(ctx, s, localTree{root: arg}, "", opts)
			reports = append(reports, r...)
			errs = append(errs, err)
		case IsManifest(arg):
			// The report's folder: two levels above the manifest holds
			// CUR 1.0's assembly folders and CUR 2.0's data/ beside
			// metadata/.
			root := filepath.Dir(filepath.Dir(filepath.Dir(arg)))
			rel, err := filepath.Rel(root, arg)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			r, err := ingestTree(ctx, s, localTree{root: root}, filepath.ToSlash(rel), opts)
			reports = append(reports, r...)
			errs = append(errs, err)
		default:
			plain = append(plain, arg)
		}
	}
	if len(plain) > 0 {
		r, err := Load(ctx, s, Delivery{Files: plain}, opts.Version, opts.Now)
		reports = append(reports, r)
		errs = append(errs, err)
	}
	return reports, errors.Join(errs...)
}

// ingestTree loads the deliveries of a tree; only, when set, is the one
// manifest to load.
func ingestTree(ctx context.Context, s store.Store, t tree, only string, opts Options) ([]Report, error) {
	entries, err := t.list(ctx)
	if err != nil {
		return nil, err
	}
	if only != "" {
		kept := entries[:0]
		for _, e := range entries {
			if !IsManifest(e.Key) || e.Key == only {
				kept = append(kept, e)
			}
		}
		entries = kept
	}
	plans, planErr := plan(entries, func(e entry) ([]byte, error) {
		return opts.cache.read(e, func() ([]byte, error) { return t.read(ctx, e.Key) })
	})
	var reports []Report
	errs := []error{planErr}
	if len(plans) == 0 && planErr == nil {
		return nil, fmt.Errorf("%s: %w", t.url(""), errNoBills)
	}
	for _, p := range plans {
		rep, err := loadPlanned(ctx, s, t, p, opts)
		if rep.Delivery != "" {
			reports = append(reports, rep)
		}
		errs = append(errs, err)
	}
	return reports, errors.Join(errs...)
}

var errNoBills = errors.New("no bill files (.csv, .csv.gz, .parquet) and no manifest")

// loadPlanned loads one planned delivery; a manifest seen before is not
// fetched again.
func loadPlanned(ctx context.Context, s store.Store, t tree, p planned, opts Options) (Report, error) {
	if p.ID != "" {
		done, err := isDone(ctx, s, opts.Version, p.ID)
		if err != nil {
			return Report{}, err
		}
		if done {
			return Report{Delivery: p.ID, Source: t.url(p.Manifest), Skipped: true}, nil
		}
	}
	paths, cleanup, err := t.local(ctx, p.Keys)
	if err != nil {
		return Report{}, err
	}
	defer cleanup()
	d := Delivery{ID: p.ID, Files: paths, Version: p.Version}
	if p.Manifest != "" {
		d.Source = t.url(p.Manifest)
	}
	rep, err := Load(ctx, s, d, opts.Version, opts.Now)
	// Reports name the files where they were found, not the copies.
	for i := range rep.Files {
		for j, lp := range paths {
			if abs, _ := filepath.Abs(lp); abs == rep.Files[i].Path {
				rep.Files[i].Path = t.url(p.Keys[j])
			}
		}
	}
	if err != nil && p.Manifest != "" {
		err = fmt.Errorf("%s: %w", path.Base(p.Manifest), err)
	}
	return rep, err
}
