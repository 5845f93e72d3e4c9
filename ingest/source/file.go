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
//
// Symbolic links are followed, src itself included (with or without a
// trailing slash), and a directory reached twice through links is walked
// once. An entry that cannot be read (a broken link, a directory without
// permission, a file whose read fails) does not stop the others: the
// listing goes on, and returns a *SkippedError naming each one.
func (s *Source) listFiles(ctx context.Context, src string, w Window, fn func(Object) error) error {
	fi, err := os.Stat(src) // follows links
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
	wk := &fileWalk{s: s, w: w, fn: fn, visited: map[string]bool{}}
	if err := wk.dir(ctx, filepath.Clean(src), filepath.ToSlash(filepath.Clean(abs)), ""); err != nil {
		return err
	}
	if len(wk.skipped) > 0 {
		return &SkippedError{Entries: wk.skipped}
	}
	return nil
}

// SkippedError is returned by List, after every other object was listed,
// for the entries of a directory that could not be read. Callers report
// them and ingest the rest.
type SkippedError struct {
	Entries []Skipped
}

// Skipped is one entry a listing could not read.
type Skipped struct {
	// URL is the entry's path as listed.
	URL string
	// Err says why.
	Err error
}

func (e *SkippedError) Error() string {
	msg := fmt.Sprintf("%d entries could not be read and were skipped", len(e.Entries))
	for i, s := range e.Entries {
		if i == 3 {
			return msg + ", …"
		}
		msg += "; " + s.Err.Error()
	}
	return msg
}

// fileWalk is one walk of a directory tree.
type fileWalk struct {
	s       *Source
	w       Window
	fn      func(Object) error
	visited map[string]bool // real paths of the directories walked
	skipped []Skipped
}

func (wk *fileWalk) skip(path string, err error) {
	wk.skipped = append(wk.skipped, Skipped{URL: path, Err: err})
}

// dir lists path, whose absolute slash-separated form is full (it finds
// AWSLogs/ even above src) and whose key relative to src is rel.
func (wk *fileWalk) dir(ctx context.Context, path, full, rel string) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		wk.skip(path, fmt.Errorf("%s: %w", path, err))
		return nil
	}
	if wk.visited[real] {
		return nil // a link back up, or a second link to the same place
	}
	wk.visited[real] = true
	entries, err := os.ReadDir(path)
	if err != nil {
		wk.skip(path, fmt.Errorf("read directory %s: %w", path, err))
		// Entries read before the error are still listed.
	}
	for _, d := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		name := d.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		p, f, r := filepath.Join(path, name), full+"/"+name, name
		if rel != "" {
			r = rel + "/" + name
		}
		typ := d.Type()
		if typ&fs.ModeSymlink != 0 {
			fi, err := os.Stat(p)
			if err != nil {
				wk.skip(p, fmt.Errorf("follow link %s: %w", p, err))
				continue
			}
			typ = fi.Mode().Type()
		}
		switch {
		case typ.IsDir():
			if ParseKey(f + "/").prune(wk.w) {
				continue
			}
			if err := wk.dir(ctx, p, f, r); err != nil {
				return err
			}
		case typ.IsRegular():
			fi, err := os.Stat(p)
			if err != nil {
				wk.skip(p, fmt.Errorf("%s: %w", p, err))
				continue
			}
			obj, keep, err := wk.s.fileObject(p, f, r, fi, wk.w, false)
			if err != nil {
				wk.skip(p, err)
				continue
			}
			if !keep {
				continue
			}
			if err := wk.fn(obj); err != nil {
				return err
			}
		default:
			wk.skip(p, fmt.Errorf("%s: not a regular file (%s)", p, typ))
		}
	}
	return nil
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
