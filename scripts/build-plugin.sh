#!/usr/bin/env bash
# `make plugin`: builds furrow's Grafana datasource plugin into a directory
# Grafana loads (plugin.json, module.js, the backend for linux amd64/arm64
# and darwin arm64) and writes a ready provisioning tree next to it:
#   build/grafana/plugins/furrowdev-furrow-datasource/
#   build/grafana/provisioning/{datasources,dashboards}/furrow.yaml
#   build/grafana/dashboards/*.json
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION="${VERSION:-dev}"
OUT="build/grafana"
PLUGIN="$OUT/plugins/furrowdev-furrow-datasource"
rm -rf "$PLUGIN" && mkdir -p "$PLUGIN/img"
bash scripts/setup-frontend.sh
for target in linux/amd64 linux/arm64 darwin/arm64; do
  os="${target%/*}"; arch="${target#*/}"
  echo "plugin: backend for $os/$arch"
  GOOS="$os" GOARCH="$arch" CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" \
    -o "$PLUGIN/gpx_furrow_${os}_${arch}" ./datasource/cmd/furrow-datasource
done
echo "plugin: frontend (module.js)"
(cd datasource/frontend && OUT="$(cd ../.. && pwd)/$PLUGIN/module.js" node build.mjs)
sed -e "s/%VERSION%/${VERSION#v}/" -e "s/%UPDATED%/$(date -u +%Y-%m-%d)/" datasource/plugin.json > "$PLUGIN/plugin.json"
cp datasource/frontend/img/logo.svg "$PLUGIN/img/logo.svg"
go run ./cmd/furrow dashboards export "$OUT" --url "${GRAFANA_DATASOURCE_URL:-http://127.0.0.1:8080}"
cat <<MSG
plugin: $PLUGIN
Grafana: paths.plugins = $(pwd)/$OUT/plugins, paths.provisioning = $(pwd)/$OUT/provisioning,
  plugins.allow_loading_unsigned_plugins = furrowdev-furrow-datasource,
  and GRAFANA_FURROW_TOKEN in Grafana's environment (a furrow token with the read scope).
MSG
