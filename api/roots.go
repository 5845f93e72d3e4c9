package api

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrOutsideRoots marks a hand-over source that is not under
// ingest.roots or ingest.s3_prefixes; the server reads nothing of it.
var ErrOutsideRoots = errors.New("outside the ingest roots")

// checkSource returns the form of src the server may read: a local path
// resolved (symlinks and "..") and inside one of roots, or an s3:// URL
// under one of prefixes. Anything else is refused with ErrOutsideRoots,
// before the path is read or listed.
func checkSource(src string, roots, prefixes []string) (string, error) {
	if strings.HasPrefix(src, "s3://") {
		if len(prefixes) == 0 {
			return "", fmt.Errorf("%s: %w: this server hands over no S3 source; set ingest.s3_prefixes in its configuration (e.g. [s3://bucket/AWSLogs/])", src, ErrOutsideRoots)
		}
		for _, p := range prefixes {
			if strings.HasPrefix(src, p) {
				return src, nil
			}
		}
		return "", fmt.Errorf("%s: %w: not under ingest.s3_prefixes (%s); add a prefix to the server's configuration", src, ErrOutsideRoots, strings.Join(prefixes, ", "))
	}
	if strings.Contains(src, "://") {
		return "", fmt.Errorf("%s: %w: only local paths and s3:// URLs are handed over", src, ErrOutsideRoots)
	}
	if len(roots) == 0 {
		return "", fmt.Errorf("%s: %w: this server hands over no local path; set ingest.roots in its configuration to the directories it may read", src, ErrOutsideRoots)
	}
	if !filepath.IsAbs(src) {
		return "", fmt.Errorf("%s: %w: a handed-over path must be absolute (the server's working directory is not the client's)", src, ErrOutsideRoots)
	}
	resolved := resolveRoots(roots)
	// First the path as written, cleaned of "..", so that nothing outside
	// the roots is even stat'ed (its existence would leak).
	clean := filepath.Clean(src)
	if !under(clean, roots, resolved) {
		return "", outside(src, roots)
	}
	// Then the file it names: a symlink under a root may point anywhere.
	real, err := filepath.EvalSymlinks(clean)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%s: %w", src, fs.ErrNotExist)
	} else if err != nil {
		return "", fmt.Errorf("%s: %w", src, err)
	}
	if !under(real, resolved, resolved) {
		return "", outside(src, roots)
	}
	return real, nil
}

func outside(src string, roots []string) error {
	return fmt.Errorf("%s: %w (%s): move the files under a root, or add their directory to ingest.roots in the server's configuration", src, ErrOutsideRoots, strings.Join(roots, ", "))
}

// resolveRoots resolves the roots' own symlinks (/tmp on macOS, a mounted
// volume's link), keeping a root that does not exist yet as written.
func resolveRoots(roots []string) []string {
	out := make([]string, len(roots))
	for i, r := range roots {
		out[i] = filepath.Clean(r)
		if real, err := filepath.EvalSymlinks(r); err == nil {
			out[i] = real
		}
	}
	return out
}

// under reports whether p is one of the roots or below one. The trailing
// separator keeps /data/roots2 out of /data/roots.
func under(p string, lists ...[]string) bool {
	for _, roots := range lists {
		for _, r := range roots {
			r = filepath.Clean(r)
			if p == r || strings.HasPrefix(p, strings.TrimSuffix(r, string(os.PathSeparator))+string(os.PathSeparator)) {
				return true
			}
		}
	}
	return false
}
