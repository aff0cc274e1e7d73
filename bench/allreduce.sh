#!/bin/sh
# The all-reduce time of the cnn_bn and resnet_small gradients between 2
# local ranks (the input of the scaling model in docs/Design.md, "Data
# parallelism"). Run on a quiet machine: bench/allreduce.sh [BUILD_DIR]
set -e
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
flags="--oversubscribe"
[ "$(id -u)" = 0 ] && flags="$flags --allow-run-as-root"
for model in fashion_mnist/cnn_bn cifar10/resnet_small; do
  # Trainable parameters = floats of gradient per step.
  n=$("$build/bin/dlc" summary "$root/examples/$model.yaml" |
      sed -n 's/^Trainable params: \([0-9,]*\).*/\1/p' | tr -d ,)
  for bucket in 1048576 67108864; do
    mpirun $flags -np 2 "$build/bin/dlc-allreduce-bench" \
      --label "$(basename $model)" --floats "$n" --bucket-bytes "$bucket"
  done
done
