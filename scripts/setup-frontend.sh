#!/usr/bin/env bash
# Installs the plugin frontend's npm dependencies (pinned by
# package-lock.json, integrity checked by npm ci) into
# datasource/frontend/node_modules, again only when the lock file changed.
set -euo pipefail
cd "$(dirname "$0")/../datasource/frontend"
command -v npm >/dev/null || { echo "frontend: npm and node are required (apt-get install npm)" >&2; exit 1; }
stamp="node_modules/.furrow-lock-sha256"
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then echo "frontend: node_modules up to date"; exit 0; fi
echo "frontend: npm ci (@grafana/ui, @grafana/data, @grafana/runtime, react, typescript, esbuild)"
npm ci --silent --no-audit --no-fund --ignore-scripts
echo "$want" > "$stamp"
