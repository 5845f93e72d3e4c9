#!/usr/bin/env bash
# Installs the official ClickHouse JS client (@clickhouse/client, from npm,
# pinned, integrity checked) that the tests run against furrow's ClickHouse
# HTTP interface. Idempotent; cached under the furrow tool cache.
set -euo pipefail
VERSION="${CH_JS_CLIENT_VERSION:-1.23.1}"
INTEGRITY="sha512-vs3/Zc1dHvT171btW5nMoPsPCJ6QVJ5pp7obxzO5sjqwFx/jjz9wwCAqcFOdc2DhprugDBaVn+4dVY8hG3A9nw=="
CACHE="${FURROW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/furrow}"
DIR="$CACHE/tools/node-clickhouse-client-$VERSION"
if [[ -f "$DIR/ok" ]]; then echo "@clickhouse/client: $DIR (cached)"; exit 0; fi
command -v npm >/dev/null || { echo "@clickhouse/client: npm and node are required (apt-get install npm)" >&2; exit 1; }
rm -rf "$DIR" && mkdir -p "$DIR"
echo "@clickhouse/client: installing $VERSION with npm"
(cd "$DIR" && echo '{"private": true}' > package.json &&
  npm install --silent --no-audit --no-fund --ignore-scripts --save-exact "@clickhouse/client@$VERSION" >/dev/null)
got="$(cd "$DIR" && node -p "require('./package-lock.json').packages['node_modules/@clickhouse/client'].integrity")"
if [[ "$got" != "$INTEGRITY" ]]; then
  echo "@clickhouse/client: integrity mismatch: got $got, want $INTEGRITY" >&2
  rm -rf "$DIR"; exit 1
fi
touch "$DIR/ok"
ln -sfn "$DIR" "$CACHE/tools/node-clickhouse-client"
echo "@clickhouse/client: installed in $DIR"
