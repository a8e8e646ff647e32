#!/usr/bin/env bash
# Installs Debian's wrk (the load generator) and nginx (the static-file baseline) for `make bench` when they are
# missing and this user can install packages. The benchmark starts its own nginx with its own configuration on
# a free port; the package's system service is not started (a policy-rc.d refuses it during the install).
# Elsewhere the leaderboard benchmark reports its figures as not measured.
set -euo pipefail
missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing ${missing[*]} from Debian's packages..."
    export DEBIAN_FRONTEND=noninteractive
    policy=/usr/sbin/policy-rc.d
    if [ ! -e "$policy" ]; then
        # Exit code 101: "action forbidden", so the package's postinst does not start the system nginx.
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        trap 'rm -f "$policy"' EXIT
    fi
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    exit 0
fi
echo "${missing[*]} missing and cannot be installed here (need root and apt-get); the leaderboard benchmark" \
    "will report its figures as not measured." >&2
