package source

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// ID is an object's identity in the exactly-once ledger and the base of
// its insert deduplication tokens. It names the content, not the place:
// the same log reached twice (through a symbolic link, as a copy, under
// another name) is the same records, and storing them twice is the worse
// failure, so it is ingested once. Any change of content gives a new ID.
//
//   - A file is sha256:HEX?size=N, from the hash taken while listing.
//   - An S3 object is s3-etag:ETAG?size=N. S3 gives no content hash
//     without reading the object, and the ledger is asked before reading
//     it. The ETag serves instead: for a single-part upload it is the MD5
//     of the content, so a copy of the object (to another key or bucket)
//     has the same one; a multipart or KMS-encrypted object's ETag is not
//     an MD5 of the content, so two copies may have different ETags
//     (ingested twice, once per copy) but two different contents never
//     share one. A local copy of an S3 object has a sha256 ID, not an
//     ETag one: load a data set from one place.
//
// A file object must come from List, which fills its ETag with the hash.
// Location tells where an object was read; LegacyID is the ID of furrow
// versions before content identity, which the ledger still honours.
func ID(obj Object) string {
	size := "?size=" + strconv.FormatInt(obj.Size, 10)
	if obj.IsS3() {
		return "s3-etag:" + url.QueryEscape(obj.ETag) + size
	}
	return "sha256:" + obj.ETag + size
}

// Location names the place an object was read, with its version: for S3
// s3://bucket/key?etag=ETAG, for a file
// file:///real/path?size=N&sha256=HEX with symbolic links resolved. It is
// what flow_logs.source and the ledger's url record.
func Location(obj Object) string {
	if obj.IsS3() {
		return LegacyID(obj)
	}
	return fileLocation(obj, true)
}

// LegacyID is the ID that furrow versions before content identity gave an
// object: its location, with a file's path absolute but as listed. Ledger
// rows written by them carry it, so an upgrade does not ingest again what
// they ingested (see FilterNew).
func LegacyID(obj Object) string {
	if obj.IsS3() {
		return obj.URL + "?etag=" + url.QueryEscape(obj.ETag)
	}
	return fileLocation(obj, false)
}

func fileLocation(obj Object, resolve bool) string {
	abs, err := filepath.Abs(obj.URL)
	if err != nil {
		abs = obj.URL
	}
	if resolve {
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			abs = real
		}
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}
	return u.String() + "?size=" + strconv.FormatInt(obj.Size, 10) + "&sha256=" + obj.ETag
}

// Why files are hashed while listing, in a pass of their own: the ledger is
// asked before ingesting (that is the point: skip what is done), so the
// identity must exist before the ingest reads the file. Hashing during the
// ingest read would only tell afterwards that the work was wasted. The cost
// is one sequential read per new or changed file per process, which is
// cheap next to decoding and inserting it, and it warms the page cache for
// the ingest read that follows. Repeated listings (the poller) do not re-read
// unchanged files: hashCache keys the sum by path, size, mtime and ctime.
// The ingest read then re-hashes in passing (verifier) to catch a file that
// changed in between, so the ledger never records content it did not ingest.

// hashCache remembers file SHA-256 sums by what a stat tells. ctime is in the
// key because it changes on every write and cannot be set back, unlike mtime.
type hashCache struct {
	mu sync.Mutex
	m  map[statKey]string
}

type statKey struct {
	path         string
	size         int64
	mtime, ctime int64
}

// maxHashCache bounds memory; past it the cache starts over.
const maxHashCache = 1 << 17

func (c *hashCache) sum(path string, fi fs.FileInfo) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	k := statKey{path: abs, size: fi.Size(), mtime: fi.ModTime().UnixNano(), ctime: ctimeOf(fi)}
	c.mu.Lock()
	sum, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return sum, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	sum = hex.EncodeToString(h.Sum(nil))
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxHashCache {
		c.m = make(map[statKey]string)
	}
	c.m[k] = sum
	c.mu.Unlock()
	return sum, nil
}

// verifier hashes a file as it is read and, at its end, turns io.EOF into
// ErrChanged when the content is not what was listed.
type verifier struct {
	f    *os.File
	h    hash.Hash
	n    int64
	obj  Object
	done bool
}

func newVerifier(f *os.File, obj Object) *verifier {
	return &verifier{f: f, h: sha256.New(), obj: obj}
}

func (v *verifier) Read(p []byte) (int, error) {
	n, err := v.f.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	if err == io.EOF && !v.done {
		v.done = true
		if sum := hex.EncodeToString(v.h.Sum(nil)); v.n != v.obj.Size || sum != v.obj.ETag {
			return n, fmt.Errorf("%s: content differs from the listing: %w", v.obj.URL, ErrChanged)
		}
	}
	return n, err
}

func (v *verifier) Close() error { return v.f.Close() }
