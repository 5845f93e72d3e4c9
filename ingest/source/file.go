package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// listFiles walks a file or directory. Directories whose date partition is
// outside w, hidden entries and other AWS services are skipped without being
// read. A file named explicitly is listed whatever w says about an unknown
// time: the user asked for it.
func (s *Source) listFiles(ctx context.Context, src string, w Window, fn func(Object) error) error {
	fi, err := os.Stat(src)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %w", src, ErrNotFound)
	} else if err != nil {
		return err
	}
	abs, err := filepath.Abs(src)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		obj, keep, err := s.fileObject(src, abs, filepath.Base(src), fi, w, true)
		if err != nil || !keep {
			return err
		}
		return fn(obj)
	}
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		if rel != "." && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		// The absolute path finds AWSLogs/ even above src.
		full := filepath.ToSlash(filepath.Join(abs, rel))
		if d.IsDir() {
			if rel != "." && ParseKey(full+"/").prune(w) {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		obj, keep, err := s.fileObject(path, full, filepath.ToSlash(rel), fi, w, false)
		if err != nil || !keep {
			return err
		}
		return fn(obj)
	})
}

// fileObject describes a file and hashes it, unless w excludes it. An
// explicit file is kept when its key tells no time.
func (s *Source) fileObject(path, abs, key string, fi fs.FileInfo, w Window, explicit bool) (Object, bool, error) {
	info := ParseKey(filepath.ToSlash(abs))
	t, span := info.Time()
	obj := Object{
		URL: path, Key: key, Size: fi.Size(), ModTime: fi.ModTime(),
		Time: t, Span: span, Account: info.Account, Region: info.Region,
	}
	keep := info.IsFlowLogs() && w.Overlaps(t, span)
	if explicit && t.IsZero() {
		keep = true
	}
	if !keep {
		return obj, false, nil
	}
	sum, err := s.hashes.sum(path, fi)
	if err != nil {
		return obj, false, err
	}
	obj.ETag = sum
	return obj, true, nil
}

func openFile(obj Object) (io.ReadCloser, error) {
	f, err := os.Open(obj.URL)
	if err != nil {
		return nil, err
	}
	if obj.ETag == "" {
		return f, nil
	}
	return newVerifier(f, obj), nil
}

// openFileAt opens a file for random access. Unlike Open it cannot check the
// content against obj.ETag without a second read, so it checks the size only.
func openFileAt(obj Object) (io.ReaderAt, int64, func() error, error) {
	f, err := os.Open(obj.URL)
	if err != nil {
		return nil, 0, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, nil, err
	}
	if fi.Size() != obj.Size {
		f.Close()
		return nil, 0, nil, fmt.Errorf("%s: size %d, listed %d: %w", obj.URL, fi.Size(), obj.Size, ErrChanged)
	}
	return f, fi.Size(), f.Close, nil
}
