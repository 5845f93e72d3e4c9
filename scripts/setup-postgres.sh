#!/usr/bin/env bash
# The tests run a real PostgreSQL (internal/testenv/pgtest): Debian's
# postgresql package provides initdb and pg_ctl. Install it when missing;
# never skip the tests.
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "postgres: $(ls -d /usr/lib/postgresql/*/bin | head -1)"
  exit 0
fi
echo "postgres: installing Debian's postgresql package"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
ls /usr/lib/postgresql/*/bin/initdb
