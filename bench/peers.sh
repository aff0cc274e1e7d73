#!/usr/bin/env bash
# dlc against PyTorch (eager, channels_last, torch.compile) and Keras 3 on
# JAX: the same models, the same initial weights, one table (images/s,
# ms/step, GFLOP/s, % of the measured FMA peak, peak RSS, compile/warm-up).
# PyTorch, Keras and JAX come from PyPI into the venv of scripts/make-venv.sh,
# never a dependency of dlc or its tests.
#
#   bench/peers.sh [--quick] [--models mlp,cnn,cnn_bn,resnet_small]
#                  [--systems dlc,torch,torch-cl,torch-compile,keras-jax]
#                  [--repeats R] [--steps T] [--warmup W] [--dlc PATH]
# --quick: 3 warm-up + 5 timed steps, one repeat (checks that it works).
# The dlc driver is build/bin/dlc unless --dlc PATH or DLC=PATH.
# Details (sanity check, timing, the FLOP formula): bench/peers.py.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if ! venv=$(bash "$root/scripts/make-venv.sh"); then
  echo "bench/peers: cannot make the Python venv (scripts/make-venv.sh" \
    "failed, see above; it needs PyPI); nothing measured." >&2
  exit 1
fi
exec "$venv/bin/python" "$root/bench/peers.py" "$@"
