#!/usr/bin/env bash
# Installs Debian's Chromium (for the browser tests) when it is missing and this user can install packages.
# Under CI a missing browser is an error; elsewhere the browser tests report that they were not run.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing chromium and chromium-driver from Debian's packages..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium chromium-driver >/dev/null
    exit 0
fi
if [ "${CI:-}" = "true" ]; then
    echo "Chromium is missing and cannot be installed here (need root and apt-get); the browser tests need it." >&2
    exit 1
fi
echo "Chromium is missing and cannot be installed here; the browser tests will report that they did not run." >&2
