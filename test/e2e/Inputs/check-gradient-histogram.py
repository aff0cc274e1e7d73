"""Checks the gradient histograms of a run with one step per epoch.

    check-gradient-histogram.py RUN_DIR LR TENSOR...

With plain SGD the step after epoch 1 applies W2 = W1 - LR * g, where g is
what `--histogram-freq 1` logs at epoch 1 as TENSOR/gradient (the gradient
at the epoch's end weights on the next step's batch and keys). Compares the
histogram's count, min, max, sum and sum of squares with those of
(W1 - W2) / LR from epoch-001/002.safetensors.
"""
import glob
import sys

import numpy as np
from safetensors.numpy import load_file
from tensorboard.backend.event_processing import event_accumulator

run, lr, names = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
w1 = load_file(f"{run}/epoch-001.safetensors")
w2 = load_file(f"{run}/epoch-002.safetensors")
acc = event_accumulator.EventAccumulator(
    f"{run}/train", size_guidance={event_accumulator.HISTOGRAMS: 0})
acc.Reload()
tags = acc.Tags()["histograms"]
print("gradient tags:", sorted(t for t in tags if t.endswith("/gradient")))
ok = True
for name in names:
    g = (w1[name].astype(np.float64) - w2[name].astype(np.float64)) / lr
    h = [e for e in acc.Histograms(name + "/gradient") if e.step == 1][0]
    v = h.histogram_value
    want = {"num": g.size, "min": g.min(), "max": g.max(), "sum": g.sum(),
            "sum_squares": (g * g).sum()}
    got = {"num": v.num, "min": v.min, "max": v.max, "sum": v.sum,
           "sum_squares": v.sum_squares}
    scale = max(abs(g).max(), 1e-12)
    for k in want:
        tol = 1e-3 * (scale * g.size if k == "sum" else
                      scale * scale * g.size if k == "sum_squares" else
                      scale if k in ("min", "max") else 0)
        if abs(got[k] - want[k]) > tol:
            print(f"MISMATCH {name} {k}: histogram {got[k]}, "
                  f"(W1 - W2) / lr {want[k]}")
            ok = False
    print(f"{name}: num {v.num} sum {v.sum:.6g} sum_squares "
          f"{v.sum_squares:.6g}")
print("ok: the gradients are the step's" if ok else "FAILED")
sys.exit(0 if ok else 1)
