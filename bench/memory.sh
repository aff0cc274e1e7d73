#!/bin/sh
# Memory of dlc's training, two views:
# 1. dlc-memory-bench: cnn_bn (batch 64) and resnet_small (batch 128)
#    training steps compiled ping-pong (in-place=false) and in place, side
#    by side (persistent bytes, bytes the step allocates per call, peak RSS
#    of a process that trains, each variant in its own process).
# 2. Peak RSS of a whole training process, dlc's compiled executable next
#    to PyTorch eager on the same models (bench/peers.sh --quick --systems
#    dlc,torch; its last table). Needs the venv of scripts/make-venv.sh
#    (PyPI); without it the comparison is skipped with a message.
#   bench/memory.sh [build-dir] [dlc-memory-bench options, e.g. --steps 5]
#   DLC_MEMORY_PEERS=0 bench/memory.sh   # only part 1
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
[ $# -gt 0 ] && shift
ninja -C "$build" dlc-memory-bench dlc >/dev/null
core=$(taskset -pc $$ 2>/dev/null | sed 's/.*: *//; s/[-,].*//')
taskset -c "${core:-0}" "$build/bin/dlc-memory-bench" "$@"
[ "${DLC_MEMORY_PEERS:-1}" = 0 ] && exit 0
echo
echo "== peak RSS of training: dlc vs PyTorch eager (bench/peers.sh) =="
if ! bash "$root/bench/peers.sh" --quick --systems dlc,torch \
    --models cnn_bn,resnet_small --dlc "$build/bin/dlc" >"${TMPDIR:-/tmp}/dlc-memory-peers.$$" 2>&1; then
  tail -5 "${TMPDIR:-/tmp}/dlc-memory-peers.$$"
  rm -f "${TMPDIR:-/tmp}/dlc-memory-peers.$$"
  echo "bench/memory: the dlc vs PyTorch comparison did not run (see above)."
  exit 1
fi
sed -n '/dlc peak RSS/,$p' "${TMPDIR:-/tmp}/dlc-memory-peers.$$"
rm -f "${TMPDIR:-/tmp}/dlc-memory-peers.$$"
