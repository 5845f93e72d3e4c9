package store

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
)

// Token hashes parts into an insert deduplication token (see Insert): the
// SHA-256 of each part prefixed with its length, so that no two lists of
// parts share a token, in hex.
func Token(parts ...string) string {
	h := sha256.New()
	var n [8]byte
	for _, s := range parts {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	return hex.EncodeToString(h.Sum(nil))
}
