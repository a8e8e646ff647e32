#!/usr/bin/env bash
# Vendors axe-core (the accessibility engine the browser tests run in each page) from the npm registry, pinned by
# version and by the registry's integrity hash, like plotly.js is vendored from its Python package. Never a CDN:
# the tests inject the file into the page themselves.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION="4.14.1"
INTEGRITY="sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
TARGET="tests/vendor/axe.min.js"
STAMP="tests/vendor/axe.version"

if [ -f "$TARGET" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$VERSION" ]; then
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    if [ "${CI:-}" = "true" ]; then
        echo "npm is missing: the accessibility tests need axe-core $VERSION from the npm registry." >&2
        exit 1
    fi
    echo "npm is missing; the accessibility tests will report that they did not run." >&2
    exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "Fetching axe-core $VERSION from the npm registry..."
npm pack "axe-core@$VERSION" --pack-destination "$work" --json --silent >"$work/pack.json"
got="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[0]["integrity"])' "$work/pack.json")"
if [ "$got" != "$INTEGRITY" ]; then
    echo "axe-core $VERSION: the registry's integrity is $got, expected $INTEGRITY" >&2
    exit 1
fi
# npm checked the tarball against that integrity; check it again here, on the bytes actually on disk.
on_disk="sha512-$(openssl dgst -sha512 -binary "$work/axe-core-$VERSION.tgz" | base64 -w0)"
if [ "$on_disk" != "$INTEGRITY" ]; then
    echo "axe-core $VERSION: the downloaded tarball's hash is $on_disk, expected $INTEGRITY" >&2
    exit 1
fi
tar -xzf "$work/axe-core-$VERSION.tgz" -C "$work" package/axe.min.js package/LICENSE
mkdir -p tests/vendor
cp "$work/package/axe.min.js" "$TARGET"
cp "$work/package/LICENSE" tests/vendor/axe.LICENSE
echo "$VERSION" >"$STAMP"
