#!/usr/bin/env bash
# The figures of issue 6 in one run, for one model (default cnn_bn):
#   * `dlc compile` time of the training executable,
#   * peak memory (max RSS) of the executable while training at its batch,
#   * throughput and the final test accuracy after EPOCHS epochs on DATA.
#
#   bench/train.sh [model.yaml] [epochs] [data]
# e.g. bench/train.sh examples/fashion_mnist/cnn_bn.yaml 10 fashion-mnist
# DLC_FLAGS adds `dlc compile` flags, e.g. DLC_FLAGS=-O3.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
model=${1:-$root/examples/fashion_mnist/cnn_bn.yaml}
epochs=${2:-10}
data=${3:-fashion-mnist}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

ninja -C "$build" dlc >/dev/null
DLC_FLAGS=${DLC_FLAGS:-}
name=$(basename "$model" .yaml)

# Compile twice: the first run warms the page cache of the compiler's shared
# libraries; the second is the figure.
"$build/bin/dlc" compile $DLC_FLAGS "$model" -o "$work/$name" >/dev/null
start=$(date +%s%N)
"$build/bin/dlc" compile $DLC_FLAGS "$model" -o "$work/$name"
end=$(date +%s%N)
compile_ms=$(((end - start) / 1000000))

/usr/bin/time -v -o "$work/time.txt" "$work/$name" train --data "$data" \
  --epochs "$epochs" --out "$work/run" --progress lines | tee "$work/log.txt"
rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time.txt")
wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/time.txt")

echo
echo "== dlc training benchmark: $name, $epochs epoch(s) on $data"
echo "dlc compile to executable:   ${compile_ms} ms"
echo "peak memory while training:  $((rss_kb / 1024)) MiB (max RSS)"
echo "training wall time:          $wall"
# metrics.csv: epoch,step,loss,accuracy,val_loss,val_accuracy,test_loss,
#              test_accuracy,learning_rate,images_per_sec,seconds
tail -n 1 "$work/run/metrics.csv" | awk -F, '{
  printf "final train loss / accuracy: %.4f / %.2f%%\n", $3, 100 * $4
  printf "final test loss / accuracy:  %.4f / %.2f%%\n", $7, 100 * $8
  printf "training throughput:         %.0f images/s\n", $10 }'
