#!/bin/sh
# Builds and runs dlc-train-bench on one core: cnn_bn and resnet_small
# training steps with every fusion (the default) and with none (--no-fusion),
# side by side
# (median step time, bytes of intermediates kept for backward).
#   bench/fusion.sh [build-dir] [dlc-train-bench options, e.g. --steps 20]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
[ $# -gt 0 ] && shift
ninja -C "$build" dlc-train-bench >/dev/null
core=$(taskset -pc $$ 2>/dev/null | sed 's/.*: *//; s/[-,].*//')
exec taskset -c "${core:-0}" "$build/bin/dlc-train-bench" "$@"
