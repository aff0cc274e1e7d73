#!/usr/bin/env python3
"""Compares two dlc training runs (--out directories) of the same model,
e.g. the CPU and the CUDA program trained with the same seed and data:
the per-epoch training loss (metrics.csv) and every tensor of
last.safetensors. Python standard library only (runs where numpy is absent).

  compare_runs.py RUN_A RUN_B [--loss-rtol 2e-3] [--param-rtol 2e-2]

A parameter tensor passes when max|a - b| <= param_rtol * max(1, max|a|).
Exit status 0 when everything is within tolerance, 1 otherwise."""
import argparse
import csv
import json
import math
import os
import struct
import sys


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        fmt = {"F32": "f", "I32": "i", "I64": "q"}[info["dtype"]]
        count = (end - begin) // struct.calcsize(fmt)
        tensors[name] = struct.unpack("<%d%s" % (count, fmt), data[begin:end])
    return tensors


def read_losses(path):
    with open(path) as f:
        return [float(row["loss"]) for row in csv.DictReader(f)]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--loss-rtol", type=float, default=2e-3)
    p.add_argument("--param-rtol", type=float, default=2e-2)
    args = p.parse_args()
    ok = True
    la = read_losses(os.path.join(args.a, "metrics.csv"))
    lb = read_losses(os.path.join(args.b, "metrics.csv"))
    if len(la) != len(lb):
        print("different numbers of epochs: %d vs %d" % (len(la), len(lb)))
        ok = False
    for e, (x, y) in enumerate(zip(la, lb), 1):
        good = math.isfinite(y) and abs(x - y) <= args.loss_rtol * max(1.0, abs(x))
        ok &= good
        print("epoch %d loss %.6f vs %.6f %s" % (e, x, y, "ok" if good else "DIFFERS"))
    ta = read_safetensors(os.path.join(args.a, "last.safetensors"))
    tb = read_safetensors(os.path.join(args.b, "last.safetensors"))
    if set(ta) != set(tb):
        print("different tensors:", sorted(set(ta) ^ set(tb)))
        ok = False
    worst = (0.0, "")
    for name in sorted(set(ta) & set(tb)):
        a, b = ta[name], tb[name]
        if len(a) != len(b):
            print("%s: %d vs %d values" % (name, len(a), len(b)))
            ok = False
            continue
        scale = max([1.0] + [abs(v) for v in a])
        diff = max([0.0] + [abs(x - y) if math.isfinite(y) else math.inf
                            for x, y in zip(a, b)])
        if diff / scale > worst[0]:
            worst = (diff / scale, name)
        if diff > args.param_rtol * scale:
            print("%s: max difference %.3g (scale %.3g) DIFFERS" % (name, diff, scale))
            ok = False
    print("parameters: %d tensors, worst relative difference %.3g (%s)"
          % (len(ta), worst[0], worst[1] or "-"))
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
