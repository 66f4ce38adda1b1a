#!/usr/bin/env bash
# PostgreSQL server binaries for the PostgreSQL store tests (tests/store start a throwaway
# server on loopback from them; they skip without). Debian bookworm ships PostgreSQL 15.
set -euo pipefail
for dir in /usr/lib/postgresql/*/bin; do
    if [ -x "$dir/initdb" ] && [ -x "$dir/postgres" ]; then
        exit 0
    fi
done
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "sysdeps-postgres: not root or no apt-get; skipping postgresql (PostgreSQL store tests will skip)"
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# the server package only: no cluster is needed (the tests run initdb in a temp directory)
apt-get install -y -qq --no-install-recommends postgresql >/dev/null
echo "sysdeps-postgres: installed postgresql"
