package api

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheckSource(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "roots", "flows")
	outside := filepath.Join(base, "secret")
	for _, d := range []string{root, outside, root + "2", filepath.Join(root, "sub")} {
		require.NoError(t, os.MkdirAll(d, 0o755))
	}
	require.NoError(t, os.WriteFile(filepath.Join(outside, "passwd"), []byte("x"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "sub", "a.log"), []byte("x"), 0o644))
	// Links under the root that lead out of it, to a file and a directory.
	require.NoError(t, os.Symlink(filepath.Join(outside, "passwd"), filepath.Join(root, "link-file")))
	require.NoError(t, os.Symlink(outside, filepath.Join(root, "link-dir")))
	// A link that stays inside is fine.
	require.NoError(t, os.Symlink(filepath.Join(root, "sub"), filepath.Join(root, "inner")))
	// The root itself through a link (a mounted volume's path).
	linkedRoot := filepath.Join(base, "linked-root")
	require.NoError(t, os.Symlink(root, linkedRoot))

	roots := []string{root}
	prefixes := []string{"s3://flows/AWSLogs/"}
	cases := []struct {
		where, src string
		roots      []string
		want       string // resolved path on success
		err        error
		msg        string
	}{
		{here(), filepath.Join(root, "sub", "a.log"), roots, filepath.Join(root, "sub", "a.log"), nil, ""},
		{here(), root, roots, root, nil, ""},
		{here(), filepath.Join(root, "inner"), roots, filepath.Join(root, "sub"), nil, ""},
		{here(), filepath.Join(linkedRoot, "sub"), []string{linkedRoot}, filepath.Join(root, "sub"), nil, ""},
		{here(), filepath.Join(root, "..", "..", "secret"), roots, "", ErrOutsideRoots, "ingest.roots"},
		{here(), root + "/sub/../../../secret/passwd", roots, "", ErrOutsideRoots, ""},
		{here(), filepath.Join(root, "link-file"), roots, "", ErrOutsideRoots, ""},
		{here(), filepath.Join(root, "link-dir"), roots, "", ErrOutsideRoots, ""},
		{here(), filepath.Join(root, "link-dir", "passwd"), roots, "", ErrOutsideRoots, ""},
		{here(), root + "2", roots, "", ErrOutsideRoots, ""}, // a sibling sharing the root's name as a prefix
		{here(), "/etc", roots, "", ErrOutsideRoots, ""},
		{here(), "sub/a.log", roots, "", ErrOutsideRoots, "absolute"},
		{here(), filepath.Join(root, "sub"), nil, "", ErrOutsideRoots, "set ingest.roots"},
		{here(), filepath.Join(root, "absent.log"), roots, "", fs.ErrNotExist, ""},
		// An absent path outside: refused for being outside, so a client
		// cannot probe what exists there.
		{here(), filepath.Join(outside, "absent.log"), roots, "", ErrOutsideRoots, ""},
		{here(), "s3://flows/AWSLogs/123/", roots, "s3://flows/AWSLogs/123/", nil, ""},
		{here(), "s3://flows/other/", roots, "", ErrOutsideRoots, "ingest.s3_prefixes"},
		{here(), "s3://flows-copy/AWSLogs/", roots, "", ErrOutsideRoots, ""},
		{here(), "http://example.com/x", roots, "", ErrOutsideRoots, "only local paths and s3://"},
	}
	for _, c := range cases {
		got, err := checkSource(c.src, c.roots, prefixes)
		if c.err != nil {
			require.ErrorIs(t, err, c.err, c.where)
			require.ErrorContains(t, err, c.msg, c.where)
			continue
		}
		require.NoError(t, err, c.where)
		require.Equal(t, c.want, got, c.where)
	}
	_, err := checkSource("s3://flows/AWSLogs/", roots, nil)
	require.ErrorContains(t, err, "set ingest.s3_prefixes")
}
