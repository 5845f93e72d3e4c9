package source

import (
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// listAll lists src and returns the objects' URLs and IDs, and the error.
func listAll(t *testing.T, s *Source, src string) (urls, ids []string, err error) {
	t.Helper()
	err = s.List(t.Context(), src, Window{}, func(o Object) error {
		urls = append(urls, o.URL)
		ids = append(ids, ID(o))
		return nil
	})
	return urls, ids, err
}

// TestListFilesLinks: a directory named through a link, with or without a
// trailing slash, lists what the directory does; links inside are followed,
// each directory is walked once, and a copy or a second path to a file has
// the same ID, so FilterNew keeps one.
func TestListFilesLinks(t *testing.T) {
	root := t.TempDir()
	data := filepath.Join(root, "data")
	require.NoError(t, os.MkdirAll(filepath.Join(data, "sub"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(data, "a.log"), []byte("a"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(data, "sub", "b.log"), []byte("bb"), 0o644))
	outside := filepath.Join(root, "outside.log")
	require.NoError(t, os.WriteFile(outside, []byte("ccc"), 0o644))
	link := filepath.Join(root, "link")
	require.NoError(t, os.Symlink(data, link))
	s := New(DefaultConfiguration(), Dependencies{})

	_, want, err := listAll(t, s, data)
	require.NoError(t, err)
	require.Len(t, want, 2)
	for _, src := range []string{link, link + "/", link + "/."} {
		urls, ids, err := listAll(t, s, src)
		require.NoError(t, err, src)
		require.Equal(t, want, ids, src)
		require.True(t, slices.IsSorted(urls))
	}

	// Links inside: a file elsewhere, a directory already walked, a loop.
	require.NoError(t, os.Symlink(outside, filepath.Join(data, "c.log")))
	require.NoError(t, os.Symlink(filepath.Join(data, "sub"), filepath.Join(data, "sub2")))
	require.NoError(t, os.Symlink(data, filepath.Join(data, "sub", "loop")))
	urls, ids, err := listAll(t, s, link)
	require.NoError(t, err)
	require.Equal(t, []string{filepath.Join(link, "a.log"), filepath.Join(link, "c.log"), filepath.Join(link, "sub", "b.log")}, urls)
	_, outID, err := listAll(t, s, outside)
	require.NoError(t, err)
	require.Equal(t, outID[0], ids[1], "a file through a link is the file")

	// A copy is the same content, a changed copy is not.
	cp := filepath.Join(data, "sub", "copy-of-a.log")
	require.NoError(t, os.WriteFile(cp, []byte("a"), 0o644))
	var objs []Object
	require.NoError(t, s.List(t.Context(), data, Window{}, func(o Object) error { objs = append(objs, o); return nil }))
	require.Len(t, objs, 4)
	fresh, err := FilterNew(t.Context(), &MemoryLedger{}, objs)
	require.NoError(t, err)
	require.Len(t, fresh, 3, "a.log and its copy are one")
	var l MemoryLedger
	l.Mark(ID(fresh[0]))
	fresh, err = FilterNew(t.Context(), &l, objs)
	require.NoError(t, err)
	require.Len(t, fresh, 2, "the copy is done once a.log is")
}

// TestFilterNewLegacyIDs: ledger rows of furrow versions that identified
// a file by its path keep it done after the upgrade.
func TestFilterNewLegacyIDs(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a.log")
	require.NoError(t, os.WriteFile(p, []byte("a"), 0o644))
	s := New(DefaultConfiguration(), Dependencies{})
	obj := listOne(t, s, p)
	var l MemoryLedger
	l.Mark("file://" + filepath.ToSlash(p) + "?size=1&sha256=" + obj.ETag)
	fresh, err := FilterNew(t.Context(), &l, []Object{obj})
	require.NoError(t, err)
	require.Empty(t, fresh)
}

// TestListFilesUnreadable: entries that cannot be read are skipped and
// named in a *SkippedError; the rest of the directory is listed.
func TestListFilesUnreadable(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a.log", "z.log"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), []byte(n), 0o644))
	}
	want := []string{filepath.Join(dir, "broken.log")}
	require.NoError(t, os.Symlink(filepath.Join(dir, "nowhere"), want[0]))
	// /proc/self/mem opens as a regular file, and reading its offset 0
	// fails (nothing is mapped there), even for root.
	if _, err := os.Stat("/proc/self/mem"); err == nil {
		mem := filepath.Join(dir, "mem.log")
		require.NoError(t, os.Symlink("/proc/self/mem", mem))
		want = append(want, mem)
	}
	fifo := filepath.Join(dir, "pipe.log")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	want = append(want, fifo)
	// chmod 000 stops everyone but root, who reads anyway: the entries
	// above fail for root too.
	locked := filepath.Join(dir, "sub")
	require.NoError(t, os.Mkdir(locked, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(locked, "m.log"), []byte("m"), 0o644))
	if os.Geteuid() != 0 {
		require.NoError(t, os.Chmod(locked, 0))
		t.Cleanup(func() { os.Chmod(locked, 0o755) })
		want = append(want, locked)
	}
	slices.Sort(want)

	s := New(DefaultConfiguration(), Dependencies{})
	urls, _, err := listAll(t, s, dir)
	var sk *SkippedError
	require.ErrorAs(t, err, &sk)
	var got []string
	for _, e := range sk.Entries {
		got = append(got, e.URL)
		require.ErrorContains(t, e.Err, e.URL)
	}
	slices.Sort(got)
	require.Equal(t, want, got)
	require.Contains(t, urls, filepath.Join(dir, "a.log"))
	require.Contains(t, urls, filepath.Join(dir, "z.log"))
	if os.Geteuid() == 0 {
		require.Contains(t, urls, filepath.Join(locked, "m.log"))
	}
}
