#!/bin/sh
# Builds and runs dlc-memory-bench: cnn_bn (batch 64) and resnet_small
# (batch 128) training steps compiled ping-pong (in-place=false) and in
# place, side by side (persistent bytes, bytes the step allocates per call,
# peak RSS of a process that trains, each variant in its own process).
#   bench/memory.sh [build-dir] [dlc-memory-bench options, e.g. --steps 5]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
[ $# -gt 0 ] && shift
ninja -C "$build" dlc-memory-bench >/dev/null
core=$(taskset -pc $$ 2>/dev/null | sed 's/.*: *//; s/[-,].*//')
exec taskset -c "${core:-0}" "$build/bin/dlc-memory-bench" "$@"
