#!/usr/bin/env bash
# The Python environment of dlc's yardsticks and interop checks (bench/peers,
# Keras/PyTorch/TensorBoard/ONNX round-trip tests). Never a dependency of dlc
# itself: everything comes from PyPI into one virtual environment outside
# the checkout, made once and reused (PyPI's torch alone is ~5 GB).
#
#   scripts/make-venv.sh            make or complete the venv, print its path
#   DLC_VENV=DIR scripts/make-venv.sh
#
# Exits non-zero (and prints why) when the venv cannot be made, e.g. without
# network; callers then report their checks as skipped.
set -euo pipefail

venv=${DLC_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/dlc/venv}
stamp=$venv/.dlc-complete-v2
packages=(torch safetensors numpy keras jax tensorboard h5py onnx onnxruntime)

if [ -f "$stamp" ]; then
  echo "$venv"
  exit 0
fi
mkdir -p "$(dirname "$venv")"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" >&2
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check \
  "${packages[@]}" >&2
touch "$stamp"
echo "$venv"
