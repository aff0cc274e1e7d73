#!/usr/bin/env bash
# `dlc compile` time per model and per phase: the wall time of the whole
# command (import to linked executable) and dlc compile -v's breakdown
# (the training step, convert-dlc-to-linalg, dlc-lower-to-cpu, then per
# object part LLVM IR translation, LLVM's opt pipeline and code generation,
# which run on one thread per part, and the link), of the fastest of R runs
# (the machine is shared: the minimum is the least disturbed run).
#   bench/compile.sh [--repeats R] [--models mlp,cnn,cnn_bn,resnet_small]
#                    [--dlc PATH] [-- extra dlc compile flags]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dlc=${DLC:-$root/build/bin/dlc}
repeats=3
models=mlp,cnn,cnn_bn,resnet_small
extra=()
while [ $# -gt 0 ]; do
  case $1 in
    --repeats) repeats=$2; shift 2 ;;
    --models) models=$2; shift 2 ;;
    --dlc) dlc=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "bench/compile: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -x "$dlc" ] || { echo "bench/compile: no dlc at $dlc (build it first)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
declare -A file=([mlp]=fashion_mnist/mlp [cnn]=fashion_mnist/cnn
                 [cnn_bn]=fashion_mnist/cnn_bn [resnet_small]=cifar10/resnet_small)
echo "dlc compile, fastest of $repeats run(s), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
printf "\n| model | total s | user+sys CPU s |\n|---|---:|---:|\n" > "$work/table"
for m in ${models//,/ }; do
  yaml=$root/examples/${file[$m]}.yaml
  [ -f "$yaml" ] || { echo "bench/compile: unknown model $m" >&2; exit 2; }
  best=
  for ((r = 0; r < repeats; ++r)); do
    start=$(date +%s.%N)
    /usr/bin/env time -f "%U %S" -o "$work/cpu" \
      "$dlc" compile "$yaml" -o "$work/exe" -v "${extra[@]}" 2> "$work/log.$r" >/dev/null
    wall=$(echo "$(date +%s.%N) - $start" | bc)
    if [ -z "$best" ] || [ "$(echo "$wall < $best" | bc)" = 1 ]; then
      best=$wall
      grep -v "linking:" "$work/log.$r" > "$work/best.log"
      cpu=$(awk '{printf "%.2f", $1 + $2}' "$work/cpu")
    fi
  done
  echo
  echo "== $m: $(printf %.2f "$best") s (CPU $cpu s)"
  sed 's/^dlc: /  /' "$work/best.log"
  printf "| %s | %.2f | %s |\n" "$m" "$best" "$cpu" >> "$work/table"
done
cat "$work/table"
