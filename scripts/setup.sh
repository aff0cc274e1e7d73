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
  dataset-fashion-mnist time
  libonnx-dev libonnx-testdata libprotobuf-dev protobuf-compiler
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
  cd "$build"
  log=$(mktemp)
  set +e
  ctest --output-on-failure -j"$(nproc)" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  set -e
  total=$(sed -n 's/.* tests failed out of \([0-9]*\).*/\1/p' "$log" | tail -n 1)
  failed=$(sed -n 's/.* \([0-9]*\) tests failed out of.*/\1/p' "$log" | tail -n 1)
  skipped=$(grep -cE '^[[:space:]]+[0-9]+ - .*\((Disabled|Skipped)\)' "$log" || true)
  rm -f "$log"
  if [ -n "$total" ] && [ -n "$failed" ]; then
    echo "ctest: $((total - failed)) passed, $failed failed, $skipped skipped"
  fi
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
