#!/usr/bin/env bash
# Compiles MODEL with DLC to an object, links it with the runtime of an
# instrumented build (RSP) under the same sanitizers, and trains, resumes,
# evaluates and predicts a little: every runtime path around compiled code,
# checked by AddressSanitizer and UndefinedBehaviorSanitizer.
#   sanitized-model.sh DLC MODEL RSP CXX SANITIZERS WORKDIR
set -euo pipefail
dlc=$1 model=$2 rsp=$3 cxx=$4 sanitizers=$5 work=$6
rm -rf "$work" && mkdir -p "$work"
"$dlc" compile "$model" --emit=obj --batch-size 16 -o "$work/model.o"
"$cxx" -fsanitize="$sanitizers" "$work/model.o" @"$rsp" -fuse-ld=lld -o "$work/model_train"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
data=synthetic:train=96,test=40
"$work/model_train" train --data "$data" --epochs 1 --checkpoint-every 2 \
  --out "$work/run" --progress lines
"$work/model_train" train --resume "$work/run/last.safetensors" --epochs 2 \
  --progress none
"$work/model_train" evaluate --checkpoint "$work/run/best.safetensors" --data "$data"
python3 - "$work/images.idx" <<'PY'
import struct, sys
open(sys.argv[1], "wb").write(bytes([0, 0, 8, 3]) + struct.pack(">III", 3, 28, 28) + bytes(range(256)) * 9 + bytes(3 * 784 - 2304))
PY
"$work/model_train" predict --checkpoint "$work/run/last.safetensors" --input "$work/images.idx" --top 2
# A corrupt checkpoint is an error (exit 1), not a sanitizer report.
head -c 100 "$work/run/last.safetensors" > "$work/truncated.safetensors"
set +e
"$work/model_train" evaluate --checkpoint "$work/truncated.safetensors" --data "$data"
rc=$?
set -e
[ "$rc" -eq 1 ] || { echo "expected exit 1 for a truncated checkpoint, got $rc"; exit 1; }
echo "sanitized compiled model: OK"
