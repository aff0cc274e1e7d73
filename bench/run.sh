#!/bin/sh
# Builds and runs dlc-bench on one core: GFLOP/s of the compiled conv2d and
# dense layers of the mnist_cnn example at batch 64, next to the peak.
#   bench/run.sh [build-dir] [dlc-bench options, e.g. --plain --seconds 2]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
[ $# -gt 0 ] && shift
ninja -C "$build" dlc-bench >/dev/null
# One core (the first one this process may use): the figure of merit is
# single-threaded, and a pinned process is not migrated mid-measurement.
core=$(taskset -pc $$ 2>/dev/null | sed 's/.*: *//; s/[-,].*//')
exec taskset -c "${core:-0}" "$build/bin/dlc-bench" "$@"
