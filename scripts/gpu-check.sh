#!/usr/bin/env bash
# The GPU check of the CUDA target, in two halves:
#
#   scripts/gpu-check.sh prepare DIR   on the build machine (needs build/bin/dlc):
#       compiles the example models for --target cpu and --target cuda into
#       DIR, with the scripts the other half needs and the shared libraries
#       of the programs beyond glibc (libomp.so.5, ...) in DIR/lib (a few
#       tens of MB).
#   scripts/gpu-check.sh run DIR       on the GPU machine (needs only python3,
#       and PyTorch with CUDA for the baselines; no LLVM/MLIR):
#       1. the GPU tests: every example trained 100 steps on the CPU and on
#          the GPU from the same seed and data, losses and parameters
#          compared (tolerances below); the GPU run twice, compared exactly
#          (determinism: no atomics);
#       1b. every op, forward and gradient: the small models of
#          scripts/gpu/ops (one op or op family each: conv variants, dense,
#          batch norm, activations, pooling, add/concat/reshape, dropout,
#          augmentation, optimizers), the `gradients` command of the CPU and
#          the GPU program (the gradient of every parameter, the logits and
#          the loss of one batch) compared tensor by tensor, with tensor
#          cores (tf32) and with the f32 SIMT kernels, and 5 training steps
#          compared (f32);
#       2. the benchmark: cnn_bn (batch 256) and resnet_small (batch 128)
#          training, dlc's CUDA program against PyTorch eager, channels_last
#          and torch.compile, one table of images/s and ms/step (dlc with
#          tensor cores and with the f32 SIMT kernels);
#       3. a kernel time breakdown of one cnn_bn step (DLC_CUDA_PROFILE=1).
#   scripts/gpu-check.sh bundle DIR    only the library half of prepare, on
#       the programs (*_cpu, *_cuda) already in DIR.
#   scripts/gpu-check.sh pack DIR      DIR as one DIR.tar.xz (about 15 MB
#       instead of about 190: the programs share most of their code, the
#       runtime) to carry to the GPU machine, where
#       `tar -xJf DIR.tar.xz && bash DIR/gpu-check.sh run DIR` runs it.
#   Exit status: 0 when every test passed, 1 otherwise, 77 when there was
#   no CUDA GPU to run on: then the GPU tests and the benchmark are reported
#   SKIP (never PASS) and only the CPU programs are run briefly, to check
#   the bundle. Meant to take well under 10 minutes; STEPS_BENCH and
#   SKIP_TORCH=1 shorten it; GPU_CHECK_MODELS="fashion_mnist/mlp ..."
#   picks the models of step 1.
set -uo pipefail
libdir=
here=$(cd "$(dirname "$0")" && pwd)

# Tolerances of the CPU/GPU comparison after 100 steps: the kernels sum in
# another order than the CPU's vectorized loops (f32), and Adam amplifies
# the difference of small gradients.
LOSS_RTOL=${LOSS_RTOL:-1e-2}
PARAM_RTOL=${PARAM_RTOL:-5e-2}
# Per op (1b): relative to each tensor's largest magnitude; tf32 keeps 10
# bits of mantissa, the f32 kernels only sum in another order.
GRAD_RTOL_TF32=${GRAD_RTOL_TF32:-2e-2}
GRAD_RTOL_F32=${GRAD_RTOL_F32:-1e-3}
read -r -a MODELS <<< "${GPU_CHECK_MODELS:-fashion_mnist/mlp fashion_mnist/cnn fashion_mnist/cnn_bn cifar10/resnet_small}"

prepare() {
  local dir=$1 root dlc
  root=$(cd "$here/.." && pwd)
  dlc=${DLC:-$root/build/bin/dlc}
  [ -x "$dlc" ] || { echo "gpu-check: no $dlc (build first)" >&2; exit 1; }
  mkdir -p "$dir"
  for m in "${MODELS[@]}"; do
    local name=${m#*/}
    echo "gpu-check: compiling $name (cpu, cuda)"
    "$dlc" compile "$root/examples/$m.yaml" --target cpu --cpu x86-64-v3 -o "$dir/${name}_cpu" || exit 1
    "$dlc" compile "$root/examples/$m.yaml" --target cuda -o "$dir/${name}_cuda" || exit 1
  done
  "$dlc" compile "$root/examples/fashion_mnist/cnn_bn.yaml" --target cuda --batch-size 256 -o "$dir/cnn_bn_b256_cuda" || exit 1
  "$dlc" compile "$root/examples/cifar10/resnet_small.yaml" --target cuda --batch-size 128 -o "$dir/resnet_small_b128_cuda" || exit 1
  # The same with the f32 SIMT kernels instead of tensor cores: the
  # benchmark's tensor cores on/off comparison.
  "$dlc" compile "$root/examples/fashion_mnist/cnn_bn.yaml" --target cuda --batch-size 256 --cuda-tensor-cores=false -o "$dir/cnn_bn_b256_simt_cuda" || exit 1
  "$dlc" compile "$root/examples/cifar10/resnet_small.yaml" --target cuda --batch-size 128 --cuda-tensor-cores=false -o "$dir/resnet_small_b128_simt_cuda" || exit 1
  # 1b: every op model with the gradients entry point, for the CPU, the
  # GPU with tensor cores and the GPU with the f32 SIMT kernels.
  mkdir -p "$dir/ops"
  local op
  for op in "$here"/gpu/ops/*.yaml; do
    local name
    name=$(basename "$op" .yaml)
    echo "gpu-check: compiling op model $name (cpu, cuda, cuda simt)"
    "$dlc" compile "$op" --gradients --target cpu --cpu x86-64-v3 -o "$dir/ops/${name}_cpu" || exit 1
    "$dlc" compile "$op" --gradients --target cuda -o "$dir/ops/${name}_cuda" || exit 1
    "$dlc" compile "$op" --gradients --target cuda --cuda-tensor-cores=false -o "$dir/ops/${name}_simt_cuda" || exit 1
  done
  bundle "$dir"
  cp "$here/gpu/compare_runs.py" "$here/gpu/torch_bench.py" "$here/compare-checkpoints.py" "$0" "$dir/"
  echo "gpu-check: prepared $dir ($(du -sh "$dir" | cut -f1)); on the GPU machine: bash $dir/gpu-check.sh run $dir"
}

# bundle DIR: the shared libraries the programs need beyond glibc (the
# OpenMP runtime libomp.so.5, libstdc++, ...) copied into DIR/lib, which
# `run` puts on LD_LIBRARY_PATH of the programs only (not of PyTorch). The
# GPU machine has no LLVM; its glibc is assumed to be as new as this one's.
bundle() {
  local dir=$1 exe lib
  mkdir -p "$dir/lib"
  for exe in "$dir"/*_cpu "$dir"/*_cuda "$dir"/ops/*_cpu "$dir"/ops/*_cuda; do
    [ -e "$exe" ] || continue
    ldd "$exe" | awk '$2 == "=>" && $3 ~ /^\// {print $3}' | while read -r lib; do
      case $(basename "$lib") in
      libc.so* | libm.so* | libdl.so* | libpthread.so* | librt.so* | ld-linux* | libutil.so* | libresolv.so*) ;;
      *) cp -Lu "$lib" "$dir/lib/" ;;
      esac
    done
  done
  # Self-contained: every library of every program resolves inside DIR/lib
  # or to glibc.
  for exe in "$dir"/*_cpu "$dir"/*_cuda "$dir"/ops/*_cpu "$dir"/ops/*_cuda; do
    [ -e "$exe" ] || continue
    if LD_LIBRARY_PATH="$dir/lib" ldd "$exe" | grep -q 'not found'; then
      echo "gpu-check: $exe misses libraries:" >&2
      LD_LIBRARY_PATH="$dir/lib" ldd "$exe" | grep 'not found' >&2
      exit 1
    fi
  done
  echo "gpu-check: bundled $(ls "$dir/lib" | tr '\n' ' ')"
}

# prog PROGRAM ARGS...: runs a compiled program with the bundled libraries.
prog() {
  LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$@"
}

batch_of() { # the compiled batch size of a program
  prog "$1" info | sed -n 's/.*batch \([0-9]*\),.*/\1/p'
}

# train PROGRAM OUT STEPS_PER_EPOCH EPOCHS [flags...]
train() {
  local exe=$1 out=$2 steps=$3 epochs=$4 b
  shift 4
  b=$(batch_of "$exe")
  prog "$exe" train --data "synthetic:train=$((b * steps)),test=$((b * 2))" \
    --validation-split 0 --epochs "$epochs" --seed 1 --progress none \
    --out "$out" "$@" > "$out.log" 2>&1
}

run() {
  local dir work failures=0
  dir=$(cd "$1" && pwd)
  libdir=$dir/lib
  work=$(mktemp -d)
  local missing
  missing=$(for exe in "$dir"/*_cpu "$dir"/*_cuda "$dir"/ops/*_cpu "$dir"/ops/*_cuda; do [ -e "$exe" ] && prog ldd "$exe" | grep 'not found'; done | sort -u)
  if [ -n "$missing" ]; then
    echo "gpu-check: the programs miss libraries on this machine:"; echo "$missing"; exit 1
  fi
  echo "== device"
  nvidia-smi -L 2>/dev/null || echo "(no nvidia-smi)"
  # A short run of the first CUDA program says whether there is a GPU: the
  # runtime's plain messages without a driver or without a device.
  local probe nogpu=
  probe=$(ls "$dir"/*_cuda 2>/dev/null | head -1)
  if [ -n "$probe" ] && ! train "$probe" "$work/probe" 1 1 &&
     grep -qE 'no CUDA driver was found|no CUDA GPU could be used' "$work/probe.log"; then
    nogpu=$(grep -m1 -oE 'no CUDA (driver was found|GPU could be used)[^;]*' "$work/probe.log")
    echo "no CUDA GPU: $nogpu"
    no_gpu_run "$dir" "$work"
    return
  fi

  echo "== 1. GPU tests: 100 steps on the CPU and on the GPU (loss rtol $LOSS_RTOL, param rtol $PARAM_RTOL)"
  for m in "${MODELS[@]}"; do
    local name=${m#*/}
    if ! train "$dir/${name}_cpu" "$work/$name.cpu" 50 2; then
      echo "FAIL $name: the CPU run failed:"; tail -5 "$work/$name.cpu.log"; failures=$((failures + 1)); continue
    fi
    if ! train "$dir/${name}_cuda" "$work/$name.gpu" 50 2; then
      echo "FAIL $name: the GPU run failed:"; tail -5 "$work/$name.gpu.log"; failures=$((failures + 1)); continue
    fi
    if python3 "$dir/compare_runs.py" "$work/$name.cpu" "$work/$name.gpu" \
        --loss-rtol "$LOSS_RTOL" --param-rtol "$PARAM_RTOL" > "$work/$name.cmp"; then
      echo "PASS $name gpu-vs-cpu: $(grep '^parameters' "$work/$name.cmp")"
    else
      echo "FAIL $name gpu-vs-cpu:"; grep -v ' ok$' "$work/$name.cmp" | head -8; failures=$((failures + 1))
    fi
    if train "$dir/${name}_cuda" "$work/$name.gpu2" 50 2 &&
       python3 "$dir/compare_runs.py" "$work/$name.gpu" "$work/$name.gpu2" \
         --loss-rtol 0 --param-rtol 0 > "$work/$name.det"; then
      echo "PASS $name gpu-deterministic"
    else
      echo "FAIL $name gpu-deterministic:"; tail -3 "$work/$name.det" 2>/dev/null; failures=$((failures + 1))
    fi
  done

  op_checks "$dir" "$work" || failures=$((failures + $?))

  echo "== 2. benchmark (synthetic data; dlc: last of 3 epochs of ${STEPS_BENCH:=40} steps, host batching and upload included)"
  local table=$work/table.txt
  printf "%-14s %6s  %-22s %12s %10s\n" model batch implementation images/s ms/step > "$table"
  for exe in cnn_bn_b256_cuda resnet_small_b128_cuda; do
    local name=${exe%_b[0-9]*_cuda} b
    if [ ! -x "$dir/$exe" ]; then
      echo "(no $exe in the bundle: not benchmarked)"; continue
    fi
    b=$(batch_of "$dir/$exe")
    local variant label
    for variant in "" _simt; do
      local run=${exe%_cuda}${variant}_cuda
      label="dlc cuda tf32 (graph)"
      [ -n "$variant" ] && label="dlc cuda f32 SIMT"
      [ -x "$dir/$run" ] || continue
      if train "$dir/$run" "$work/$run" "$STEPS_BENCH" 3; then
        local ips
        ips=$(tail -1 "$work/$run/metrics.csv" | awk -F, '{print $10}')
        awk -v m="$name" -v b="$b" -v i="$ips" -v l="$label" 'BEGIN{printf "%-14s %6d  %-22s %12.0f %10.2f\n", m, b, l, i, b*1000/i}' >> "$table"
      else
        printf "%-14s %6d  %-22s %s\n" "$name" "$b" "$label" "failed: $(tail -1 "$work/$run.log")" >> "$table"
        failures=$((failures + 1))
      fi
    done
    if [ "${SKIP_TORCH:-0}" != 1 ]; then
      python3 "$dir/torch_bench.py" "$name" "$b" --steps 50 2> "$work/$name.torch.err" |
        python3 -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    if "error" in r:
        print("%-14s %6d  %-22s failed: %s" % (r["model"], r["batch"], r["mode"], r["error"][:60]))
    else:
        print("%-14s %6d  %-22s %12.0f %10.2f" % (r["model"], r["batch"], r["mode"], r["images_per_sec"], r["ms_per_step"]))
' >> "$table" || echo "(PyTorch baseline failed: $(tail -1 "$work/$name.torch.err"))" >> "$table"
    fi
  done
  cat "$table"

  echo "== 3. kernel time breakdown: cnn_bn batch 256, one epoch of 3 steps without graphs"
  if [ -x "$dir/cnn_bn_b256_cuda" ]; then
    DLC_CUDA_PROFILE=1 train "$dir/cnn_bn_b256_cuda" "$work/profile" 3 1 || true
    sed -n '/^dlc: kernel time/,$p' "$work/profile.log" | head -25
  else
    echo "(no cnn_bn_b256_cuda in the bundle)"
  fi

  echo "== $failures failure(s); logs in $work"
  [ "$failures" -eq 0 ]
}

# gradients PROGRAM OUT: the program's gradients of one batch (its first
# training step from seed 1) as safetensors.
gradients() {
  prog "$1" gradients --data "synthetic:train=$(( $(batch_of "$1") * 4 )),test=8" \
    --validation-split 0 --seed 1 -o "$2" > "$2.log" 2>&1
}

# op_checks DIR WORK: 1b, every op model of DIR/ops on the CPU and the GPU;
# returns the number of failures.
op_checks() {
  local dir=$1 work=$2 failures=0 cpu name
  echo "== 1b. every op: gradients and logits of one batch (tf32 rtol $GRAD_RTOL_TF32, f32 rtol $GRAD_RTOL_F32), 5 training steps (f32)"
  for cpu in "$dir"/ops/*_cpu; do
    [ -e "$cpu" ] || continue
    name=$(basename "$cpu" _cpu)
    local out=$work/ops/$name
    mkdir -p "$out"
    if ! gradients "$cpu" "$out/cpu.safetensors"; then
      echo "FAIL $name: the CPU program failed:"; tail -3 "$out/cpu.safetensors.log"; failures=$((failures + 1)); continue
    fi
    local variant rtol label
    for variant in cuda simt_cuda; do
      case $variant in
      cuda) rtol=$GRAD_RTOL_TF32 label=tf32 ;;
      *) rtol=$GRAD_RTOL_F32 label=f32 ;;
      esac
      if ! gradients "$dir/ops/${name}_$variant" "$out/$variant.safetensors"; then
        echo "FAIL $name gradients-$label: the GPU program failed:"; tail -3 "$out/$variant.safetensors.log"; failures=$((failures + 1)); continue
      fi
      if python3 "$dir/compare-checkpoints.py" --each --rtol "$rtol" "$out/cpu.safetensors" "$out/$variant.safetensors" > "$out/$variant.cmp"; then
        echo "PASS $name gradients-$label: $(tail -1 "$out/$variant.cmp")"
      else
        echo "FAIL $name gradients-$label:"; grep -v ' ok$' "$out/$variant.cmp" | head -6; failures=$((failures + 1))
      fi
    done
    if train "$cpu" "$out/train.cpu" 5 1 && train "$dir/ops/${name}_simt_cuda" "$out/train.gpu" 5 1 &&
       python3 "$dir/compare_runs.py" "$out/train.cpu" "$out/train.gpu" \
         --loss-rtol "$GRAD_RTOL_F32" --param-rtol "$GRAD_RTOL_F32" > "$out/train.cmp"; then
      echo "PASS $name train-f32: $(grep '^parameters' "$out/train.cmp")"
    else
      echo "FAIL $name train-f32:"; grep -v ' ok$' "$out/train.cmp" 2>/dev/null | head -6
      tail -2 "$out/train.gpu.log" 2>/dev/null; failures=$((failures + 1))
    fi
  done
  return "$failures"
}

# no_gpu_run DIR WORK: without a GPU, the CPU programs run two steps each
# (the bundle's libraries work here); everything that needs the GPU is
# reported SKIP, and the exit status is 77 (1 if a CPU program failed).
no_gpu_run() {
  local dir=$1 work=$2 failures=0 skipped=0
  echo "== 1. GPU tests: skipped (no CUDA GPU); the CPU programs, 2 steps each"
  for m in "${MODELS[@]}"; do
    local name=${m#*/}
    if train "$dir/${name}_cpu" "$work/$name.cpu" 2 1; then
      echo "ok $name: the CPU program trains from the bundle"
    else
      echo "FAIL $name: the CPU run failed:"; tail -5 "$work/$name.cpu.log"; failures=$((failures + 1))
    fi
    echo "SKIP $name gpu-vs-cpu (no CUDA GPU)"
    echo "SKIP $name gpu-deterministic (no CUDA GPU)"
    skipped=$((skipped + 2))
  done
  echo "== 1b. every op: skipped (no CUDA GPU); the CPU programs' gradients"
  local cpu name
  mkdir -p "$work/ops"
  for cpu in "$dir"/ops/*_cpu; do
    [ -e "$cpu" ] || continue
    name=$(basename "$cpu" _cpu)
    if gradients "$cpu" "$work/ops/$name.safetensors"; then
      echo "ok $name: the CPU program writes its gradients"
    else
      echo "FAIL $name: the CPU program failed:"; tail -3 "$work/ops/$name.safetensors.log"; failures=$((failures + 1))
    fi
    echo "SKIP $name gradients-tf32 (no CUDA GPU)"
    echo "SKIP $name gradients-f32 (no CUDA GPU)"
    echo "SKIP $name train-f32 (no CUDA GPU)"
    skipped=$((skipped + 3))
  done
  echo "== 2. benchmark: SKIP (no CUDA GPU)"
  echo "== 3. kernel time breakdown: SKIP (no CUDA GPU)"
  skipped=$((skipped + 2))
  echo "== $failures failure(s), $skipped skipped (no CUDA GPU); logs in $work"
  [ "$failures" -eq 0 ] || exit 1
  exit 77
}

# pack DIR: DIR.tar.xz next to DIR (xz's 64 MiB dictionary at -9 finds the
# runtime code the programs have in common).
pack() {
  local dir parent
  dir=$(cd "$1" && pwd)
  parent=$(dirname "$dir")
  tar -C "$parent" -cf - "$(basename "$dir")" | xz -9 > "$dir.tar.xz" || exit 1
  echo "gpu-check: packed $dir.tar.xz ($(du -h "$dir.tar.xz" | cut -f1)); on the GPU machine: tar -xJf $(basename "$dir").tar.xz && bash $(basename "$dir")/gpu-check.sh run $(basename "$dir")"
}

case "${1:-}" in
bundle) [ $# -eq 2 ] || { echo "usage: $0 bundle DIR" >&2; exit 2; }; bundle "$2" ;;
prepare) [ $# -eq 2 ] || { echo "usage: $0 prepare DIR" >&2; exit 2; }; prepare "$2" ;;
run) [ $# -eq 2 ] || { echo "usage: $0 run DIR" >&2; exit 2; }; run "$2" ;;
pack) [ $# -eq 2 ] || { echo "usage: $0 pack DIR" >&2; exit 2; }; pack "$2" ;;
*) echo "usage: $0 prepare DIR | run DIR | bundle DIR | pack DIR" >&2; exit 2 ;;
esac
