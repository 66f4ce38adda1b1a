#!/usr/bin/env bash
# Debian packages the test suite uses for real (not mocked): a headless Chromium to print
# power-quality reports to PDF. Installed only when missing and when we may (root);
# otherwise the PDF test is skipped and says why.
set -euo pipefail
if command -v chromium-headless-shell >/dev/null 2>&1 || command -v chromium >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "system-packages: not root or no apt-get; skipping chromium (PDF tests will skip)"
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium-headless-shell >/dev/null
echo "system-packages: installed chromium-headless-shell"
