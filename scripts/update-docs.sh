#!/usr/bin/env bash
# Regenerates docs/generated (dialect and pass references) from the ODS.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
ninja -C "$build" dlc-doc
rm -rf "$root/docs/generated"
cp -r "$build/docs" "$root/docs/generated"
echo "docs/generated updated from $build/docs"
