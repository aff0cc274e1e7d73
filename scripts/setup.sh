#!/usr/bin/env bash
# dlc's one entry point on a fresh Debian 12 machine. Idempotent: packages
# already present are not reinstalled and the build is incremental.
#
#   scripts/setup.sh run    install, build, run the main job (default)
#   scripts/setup.sh test   install, build, run every test (what CI runs)
#   scripts/setup.sh build  install and build only
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
mode=${1:-run}

# Everything dlc needs to build, test and train, from Debian's archive.
packages=(
  cmake ninja-build python3 git
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools clang-22 lld-22
  libzstd-dev zlib1g-dev libfmt-dev libgtest-dev googletest
  dataset-fashion-mnist time libomp-22-dev libclang-rt-22-dev
  libonnx-dev libonnx-testdata libprotobuf-dev protobuf-compiler
  chromium openmpi-bin libopenmpi-dev libhdf5-dev hdf5-tools
)

install_packages() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
      missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "setup: installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

configure_and_build() {
  if [ ! -f "$build/build.ninja" ]; then
    cmake -G Ninja -S "$root" -B "$build" \
      -DCMAKE_BUILD_TYPE=Release \
      -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
      -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
      -DLLVM_USE_LINKER=lld
  fi
  ninja -C "$build" -j"$(nproc)"
}

install_packages
configure_and_build

case "$mode" in
build) ;;
test)
  # lit runs inside ctest (test "lit"). ctest lists disabled and skipped
  # tests after its summary, so end with one plain summary line of our own.
  passed=0 failed=0 skipped=0 rc=0
  # run_ctest DIR ARGS...: runs ctest, adds its counts to the totals.
  run_ctest() {
    local dir=$1
    shift
    local log
    log=$(mktemp)
    set +e
    (cd "$dir" && ctest --output-on-failure -j"$(nproc)" "$@") 2>&1 | tee "$log"
    local status=${PIPESTATUS[0]}
    set -e
    local total fail skip
    total=$(sed -n 's/.* tests failed out of \([0-9]*\).*/\1/p' "$log" | tail -n 1)
    fail=$(sed -n 's/.* \([0-9]*\) tests failed out of.*/\1/p' "$log" | tail -n 1)
    skip=$(grep -cE '^[[:space:]]+[0-9]+ - .*\((Disabled|Skipped)\)' "$log" || true)
    rm -f "$log"
    if [ -z "$total" ] || [ -z "$fail" ]; then
      failed=$((failed + 1)) # ctest itself failed
    else
      passed=$((passed + total - fail)) failed=$((failed + fail))
      skipped=$((skipped + skip))
    fi
    [ "$status" -eq 0 ] || rc=1
  }
  run_ctest "$build"

  # The instrumented build (its own directory, only the targets it needs):
  # the runtime and its unit tests under AddressSanitizer +
  # UndefinedBehaviorSanitizer, a model compiled by the normal dlc linked
  # with that runtime, the fuzz targets replaying their seed corpus, then
  # each fuzz target for FUZZ_SECONDS (default 30). FUZZ=0 skips it all.
  if [ "${FUZZ:-1}" != 0 ]; then
    fuzz_build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
    start=$(date +%s)
    if [ ! -f "$fuzz_build/build.ninja" ]; then
      cmake -G Ninja -S "$root" -B "$fuzz_build" \
        -DCMAKE_BUILD_TYPE=Release \
        -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
        -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
        -DLLVM_USE_LINKER=lld \
        -DDLC_SANITIZE=address,undefined -DDLC_ENABLE_FUZZERS=ON \
        -DDLC_HOST_DLC="$build/bin/dlc"
    fi
    if ninja -C "$fuzz_build" -j"$(nproc)" dlc-fuzzers DLCRuntimeTests \
      dlc-fake-model-train; then
      run_ctest "$fuzz_build" -L 'runtime|fuzz'
      seconds=${FUZZ_SECONDS:-30}
      # fuzz_one NAME SEEDS...: one target for $seconds; new inputs go to
      # the build tree's corpus (the first directory), the seed directories
      # are only read. The verdict goes to fuzz-NAME.result.
      fuzz_one() {
        local name=$1 corpus="$fuzz_build/fuzz-corpus/$1"
        shift
        mkdir -p "$corpus" "$fuzz_build/fuzz-artifacts"
        if "$fuzz_build/bin/dlc-fuzz-$name" -max_total_time="$seconds" \
          -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
          -artifact_prefix="$fuzz_build/fuzz-artifacts/$name-" \
          -print_final_stats=1 "$corpus" "$@" \
          >"$fuzz_build/fuzz-$name.log" 2>&1; then
          echo ok >"$fuzz_build/fuzz-$name.result"
        else
          echo failed >"$fuzz_build/fuzz-$name.result"
        fi
      }
      # One target per core at a time.
      jobs_running=0 names=()
      while read -r name seeds; do
        names+=("$name")
        # shellcheck disable=SC2086
        fuzz_one "$name" $seeds </dev/null &
        jobs_running=$((jobs_running + 1))
        if [ "$jobs_running" -ge "$(nproc)" ]; then
          wait
          jobs_running=0
        fi
      done <"$fuzz_build/fuzz-targets.txt"
      wait
      for name in "${names[@]}"; do
        log="$fuzz_build/fuzz-$name.log"
        if [ "$(cat "$fuzz_build/fuzz-$name.result")" = ok ]; then
          execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
          echo "fuzz $name: ${seconds} s, ${execs:-?} executions, no failure"
          passed=$((passed + 1))
        else
          echo "fuzz $name: FAILED (see $log)"
          tail -n 40 "$log"
          failed=$((failed + 1)) rc=1
        fi
      done
    else
      echo "setup: the sanitizer/fuzz build failed"
      failed=$((failed + 1)) rc=1
    fi
    echo "setup: sanitizer and fuzz checks took $(($(date +%s) - start)) s"
  fi
  echo "ctest: $passed passed, $failed failed, $skipped skipped"
  exit "$rc"
  ;;
run)
  # The main job: train the cnn_bn example on Fashion-MNIST for a short
  # default run (EPOCHS, default 1); the program prints where its report is.
  out=${OUT_DIR:-$root/runs/cnn_bn}
  "$build/bin/dlc" train "$root/examples/fashion_mnist/cnn_bn.yaml" \
    --data fashion-mnist --epochs "${EPOCHS:-1}" --out "$out"
  echo "setup: report at $out/report.html, metrics in $out/metrics.csv"
  ;;
*)
  echo "usage: $0 [run|test|build]" >&2
  exit 2
  ;;
esac
