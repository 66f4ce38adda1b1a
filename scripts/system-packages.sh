#!/usr/bin/env bash
# Debian packages the test suite uses for real (not mocked): each scripts/sysdeps-*.sh
# installs one service or tool (Chromium for PDF reports, PostgreSQL, Mosquitto, ...) when
# it is missing and when we may (root with apt-get); otherwise it says so, and the tests
# that need it are skipped with the reason.
set -euo pipefail
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive
for script in sysdeps-*.sh; do
    [ -e "$script" ] || continue
    bash "$script"
done
