#!/usr/bin/env bash
# Makes sure the machine has the Chromium that `npm run test:browser` drives (playwright-core never
# downloads a browser of its own). Installs Debian's package when /usr/bin/chromium is missing.
# Needs root (CI runs as root); exits non-zero with a clear message otherwise.
set -euo pipefail

CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
  echo "ensure-chromium: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM") present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-chromium: $CHROMIUM is missing and installing it needs root (apt-get install chromium)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
echo "ensure-chromium: installed $("$CHROMIUM" --version)"
