#!/usr/bin/env bash
# Makes sure Debian's headless-capable Chromium is at /usr/bin/chromium, for the browser test of
# the local status page (test/integration/status-page.test.ts). Installs it with apt-get when it
# is missing and this runs as root; otherwise says why it cannot and exits 1 (the test skips).
set -euo pipefail
CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then
  echo "chromium: $("$CHROMIUM" --version 2>/dev/null || echo present)"
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "chromium is not installed and this user is not root: run 'sudo apt-get install -y chromium'" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium is not installed and there is no apt-get here: install Chromium at $CHROMIUM" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends chromium >/tmp/ensure-chromium.log 2>&1; then
  # The package lists may be missing or stale on a fresh machine.
  apt-get update >>/tmp/ensure-chromium.log 2>&1 || true
  if ! apt-get install -y --no-install-recommends chromium >>/tmp/ensure-chromium.log 2>&1; then
    echo "apt-get install chromium failed (see /tmp/ensure-chromium.log)" >&2
    exit 1
  fi
fi
echo "chromium: $("$CHROMIUM" --version 2>/dev/null || echo installed)"
