#!/usr/bin/env python3
"""Compares the F32 tensors of two dlc checkpoints (safetensors), stdlib only.

  compare-checkpoints.py A B --exact          every tensor's bytes equal
  compare-checkpoints.py A B --rtol 1e-5      per tensor, max |a - b| <=
                                              rtol * max |a| (norm-relative,
                                              so that elements near zero do
                                              not dominate)
  --prefix NAME   compare only tensors whose name starts with NAME (repeat)
  --skip SUFFIX   leave out tensors whose name ends with SUFFIX (repeat)
  --each          a line per tensor (its difference and scale, ok/DIFFERS)

A tensor with NaN or infinite values, or with another shape, never agrees.
Also reads what a program's `gradients` command writes (scripts/gpu-check.sh
compares the CPU's and the GPU's that way).

Prints the worst tensor and its relative difference; exit status 0 when
the checkpoints agree, 1 when they do not, 2 on a bad file.
"""
import argparse
import array
import json
import math
import struct
import sys


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        sys.exit(f"{path}: not a safetensors file")
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        tensors[name] = (info["dtype"], body[begin:end], info["shape"])
    return tensors


def main():
    p = argparse.ArgumentParser()
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--exact", action="store_true")
    p.add_argument("--rtol", type=float, default=1e-5)
    p.add_argument("--prefix", action="append", default=[])
    p.add_argument("--skip", action="append", default=[])
    p.add_argument("--each", action="store_true")
    args = p.parse_args()
    a, b = load(args.a), load(args.b)
    if set(a) != set(b):
        print("different tensors:", sorted(set(a) ^ set(b)))
        return 1
    worst, worst_name, compared, failed = 0.0, "", 0, False
    for name in sorted(a):
        if args.prefix and not any(name.startswith(x) for x in args.prefix):
            continue
        if any(name.endswith(x) for x in args.skip):
            continue
        (da, xa, sa), (db, xb, sb) = a[name], b[name]
        compared += 1
        if sa != sb:
            print(f"{name}: shape {sa} vs {sb}")
            return 1
        if args.exact:
            if da != db or xa != xb:
                print(f"{name}: the bytes differ")
                return 1
            continue
        if da != "F32":
            if xa != xb:
                print(f"{name}: {da} values differ")
                return 1
            continue
        va, vb = array.array("f", xa), array.array("f", xb)
        if not all(math.isfinite(x) for x in va) or not all(
                math.isfinite(x) for x in vb):
            print(f"{name}: NaN or infinite values DIFFERS")
            failed = True
            continue
        scale = max((abs(x) for x in va), default=0.0) or 1.0
        diff = max((abs(x - y) for x, y in zip(va, vb)), default=0.0)
        rel = diff / scale
        if args.each:
            print(f"{name}: max |a-b| {diff:.3g}, max |a| {scale:.3g} "
                  f"({rel:.2g}) {'ok' if rel <= args.rtol else 'DIFFERS'}")
        if rel > worst or not worst_name:
            worst, worst_name = rel, name
    if compared == 0:
        print("no tensor compared")
        return 1
    if args.exact:
        print(f"{compared} tensors bit-identical")
        return 0
    print(f"{compared} tensors; worst {worst_name}: max |a-b| / max |a| = "
          f"{worst:.3g} (rtol {args.rtol:g})")
    return 0 if worst <= args.rtol and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
