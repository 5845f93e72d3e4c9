#!/usr/bin/env bash
# The /alerts page is tested in a real headless browser
# (alerting/page_chromium_test.go): Debian's chromium package. Install it
# when missing; quiet when present. CI (CI=true) fails that test rather
# than skipping it when chromium is absent.
set -euo pipefail
for b in chromium chromium-browser; do
  if command -v "$b" >/dev/null 2>&1; then
    exit 0
  fi
done
echo "chromium: installing Debian's chromium package"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
command -v chromium
