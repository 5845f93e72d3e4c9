#!/usr/bin/env bash
# Builds the MinIO server used by the tests (a real S3 implementation) from the
# Go module proxy at a pinned version into the furrow tool cache. Idempotent.
set -euo pipefail
MINIO_VERSION="${MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}"
CACHE="${FURROW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/furrow}"
BIN="$CACHE/tools/minio-$MINIO_VERSION/minio"
if [[ -x "$BIN" ]]; then echo "minio: $BIN (cached)"; exit 0; fi
mkdir -p "$(dirname "$BIN")"
echo "minio: building github.com/minio/minio@$MINIO_VERSION (~2 min, once)"
GOBIN="$(dirname "$BIN")" GOFLAGS=-mod=mod go install "github.com/minio/minio@$MINIO_VERSION"
ln -sfn "$BIN" "$CACHE/tools/minio"
echo "minio: installed $BIN"
