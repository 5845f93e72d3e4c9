package source

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func writeTree(t *testing.T, tree []fixture) string {
	t.Helper()
	root := t.TempDir()
	for _, f := range tree {
		p := filepath.Join(root, filepath.FromSlash(f.key))
		if strings.HasSuffix(f.key, "/") {
			require.NoError(t, os.MkdirAll(p, 0o755))
			continue
		}
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte("content of "+f.key), 0o644))
	}
	require.NoError(t, os.WriteFile(filepath.Join(root, ".DS_Store"), []byte("x"), 0o644))
	return root
}

func TestListFilesWindows(t *testing.T) {
	tree := fixtureTree()
	root := writeTree(t, tree)
	s := New(DefaultConfiguration(), Dependencies{})
	for _, sub := range []string{"", "AWSLogs/", "hive/", "AWSLogs/" + acct + "/vpcflowlogs/eu-west-1/"} {
		for _, c := range windowCases() {
			t.Run(sub+" "+c.name, func(t *testing.T) {
				keys, objs := listKeys(t, s, filepath.Join(root, sub), c.w)
				for i := range keys {
					keys[i] = sub + keys[i]
				}
				require.Equal(t, expect(tree, sub, c.w), keys)
				for _, o := range objs {
					require.Len(t, o.ETag, 64, "sha256 hex")
					require.Equal(t, acct, o.Account)
					require.False(t, o.Time.IsZero())
				}
			})
		}
	}
}

func TestListFilesMissing(t *testing.T) {
	s := New(DefaultConfiguration(), Dependencies{})
	err := s.List(t.Context(), filepath.Join(t.TempDir(), "nope"), Window{}, func(Object) error { return nil })
	require.ErrorIs(t, err, ErrNotFound)
}

func TestListExplicitFileWithoutTime(t *testing.T) {
	p := filepath.Join(t.TempDir(), "flows.log.gz")
	require.NoError(t, os.WriteFile(p, []byte("x"), 0o644))
	s := New(DefaultConfiguration(), Dependencies{})
	_, objs := listKeys(t, s, p, Window{Since: time.Now()})
	require.Len(t, objs, 1)
	require.Equal(t, p, objs[0].URL)
}

func listOne(t *testing.T, s *Source, path string) Object {
	t.Helper()
	_, objs := listKeys(t, s, path, Window{})
	require.Len(t, objs, 1)
	return objs[0]
}

func TestFileIdentity(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, acct+"_vpcflowlogs_us-east-1_"+flowID+"_20240601T0005Z_abcdef01.log.gz")
	require.NoError(t, os.WriteFile(p, []byte("version 1"), 0o644))
	s := New(DefaultConfiguration(), Dependencies{})

	first := ID(listOne(t, s, p))
	require.Regexp(t, `^sha256:[0-9a-f]{64}\?size=9$`, first)
	require.Contains(t, Location(listOne(t, s, p)), "file://"+filepath.ToSlash(p)+"?size=9&sha256=")
	require.Equal(t, Location(listOne(t, s, p)), LegacyID(listOne(t, s, p)), "no links: the old ID is the location")
	require.Equal(t, first, ID(listOne(t, s, p)), "stable")

	// Only the mtime changes: same identity (and a cache miss, so a re-hash).
	later := time.Now().Add(time.Hour)
	require.NoError(t, os.Chtimes(p, later, later))
	touched := listOne(t, s, p)
	require.Equal(t, first, ID(touched))
	// A fresh Source (no cache) agrees.
	require.Equal(t, first, ID(listOne(t, New(DefaultConfiguration(), Dependencies{}), p)))

	// Same size, other content, mtime put back: new identity.
	require.NoError(t, os.WriteFile(p, []byte("version 2"), 0o644))
	require.NoError(t, os.Chtimes(p, later, later))
	changed := listOne(t, s, p)
	require.NotEqual(t, first, ID(changed))

	// Reading an object listed before the change fails at its end.
	r, err := s.Open(t.Context(), touched)
	require.NoError(t, err)
	_, err = io.ReadAll(r)
	require.True(t, errors.Is(err, ErrChanged), "got %v", err)
	require.NoError(t, r.Close())

	// Reading the current listing succeeds.
	r, err = s.Open(t.Context(), changed)
	require.NoError(t, err)
	b, err := io.ReadAll(r)
	require.NoError(t, err)
	require.Equal(t, "version 2", string(b))
	require.NoError(t, r.Close())

	ra, size, cleanup, err := s.OpenReaderAt(t.Context(), changed)
	require.NoError(t, err)
	buf := make([]byte, 7)
	_, err = ra.ReadAt(buf, 2)
	require.NoError(t, err)
	require.Equal(t, int64(9), size)
	require.Equal(t, "rsion 2", string(buf))
	require.NoError(t, cleanup())
}

func TestFilterNew(t *testing.T) {
	objs := make([]Object, 2500)
	for i := range objs {
		objs[i] = Object{URL: "s3://b/k", ETag: strings.Repeat("a", i%7) + string(rune('a'+i%26)) + time.Duration(i).String()}
	}
	var l MemoryLedger
	l.Mark(ID(objs[0]), ID(objs[1500]))
	fresh, err := FilterNew(t.Context(), &l, objs)
	require.NoError(t, err)
	require.Len(t, fresh, 2498)
	require.Equal(t, objs[1], fresh[0])
}
