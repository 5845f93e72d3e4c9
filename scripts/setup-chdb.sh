#!/usr/bin/env bash
# Fetches libchdb.so (the embedded ClickHouse engine) from the npm registry
# package @chdb/lib-linux-x64-gnu at a pinned version, checks the tarball's
# sha256 and unpacks the library into the furrow cache outside the repo.
# Idempotent: a cached library with a matching stamp is reused.
set -euo pipefail

CHDB_VERSION="${CHDB_VERSION:-26.5.3}"
CHDB_SHA256="${CHDB_SHA256:-b874e449710950da3abd7e20376f7bb3387d9e03adcc7082f022be18dfdf316a}"
CACHE="${FURROW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/furrow}"
DEST="$CACHE/chdb/$CHDB_VERSION"
LIB="$DEST/libchdb.so"

if [[ -f "$LIB" && -f "$DEST/.sha256" && "$(cat "$DEST/.sha256")" == "$CHDB_SHA256" ]]; then
  echo "chdb: $LIB (cached, @chdb/lib-linux-x64-gnu@$CHDB_VERSION)"
  exit 0
fi

command -v npm >/dev/null || { echo "chdb: npm is required to fetch @chdb/lib-linux-x64-gnu (apt-get install npm)" >&2; exit 1; }
mkdir -p "$DEST"
tmp="$(mktemp -d "$CACHE/chdb/tmp.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "chdb: fetching @chdb/lib-linux-x64-gnu@$CHDB_VERSION with npm pack (~166 MB)"
(cd "$tmp" && npm pack --silent "@chdb/lib-linux-x64-gnu@$CHDB_VERSION" >/dev/null)
tgz="$(ls "$tmp"/*.tgz)"
got="$(sha256sum "$tgz" | cut -d' ' -f1)"
if [[ "$got" != "$CHDB_SHA256" ]]; then
  echo "chdb: checksum mismatch for $(basename "$tgz"): got $got, want $CHDB_SHA256" >&2
  exit 1
fi
tar -xzf "$tgz" -C "$tmp" package/libchdb.so
mv "$tmp/package/libchdb.so" "$LIB.tmp" && mv "$LIB.tmp" "$LIB"
echo "$CHDB_SHA256" > "$DEST/.sha256"
ln -sfn "$DEST" "$CACHE/chdb/current"
echo "chdb: installed $LIB"
