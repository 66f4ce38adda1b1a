#!/usr/bin/env bash
# A headless Chromium to print power-quality reports to PDF (tests skip without it).
set -euo pipefail
if command -v chromium-headless-shell >/dev/null 2>&1 || command -v chromium >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "sysdeps-chromium: not root or no apt-get; skipping chromium (PDF tests will skip)"
    exit 0
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium-headless-shell >/dev/null
echo "sysdeps-chromium: installed chromium-headless-shell"
