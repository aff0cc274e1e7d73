#!/usr/bin/env python3
"""Compares two dlc checkpoints (safetensors) byte for byte: every tensor's
bytes and header entry, and the metadata except the keys named with
--ignore; in the history, every value except the wall-clock ones
(images_per_sec, seconds). Prints 'identical' or what differs; exits 1
when they differ."""
import argparse
import json
import struct
import sys


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + size])
    return header.pop("__metadata__", {}), header, data[8 + size :]


parser = argparse.ArgumentParser()
parser.add_argument("a")
parser.add_argument("b")
parser.add_argument("--ignore", action="append", default=[])
args = parser.parse_args()
meta_a, header_a, data_a = read(args.a)
meta_b, header_b, data_b = read(args.b)
problems = []
if header_a != header_b:
    problems.append("tensor headers differ")
for name, entry in header_a.items():
    other = header_b.get(name)
    if other is None:
        continue
    begin, end = entry["data_offsets"]
    ob, oe = other["data_offsets"]
    if data_a[begin:end] != data_b[ob:oe]:
        problems.append(f"tensor {name} differs")
TIMINGS = ("images_per_sec", "seconds")


def without_timings(history):
    return [{k: v for k, v in e.items() if k not in TIMINGS}
            for e in json.loads(history)]


for key in ("history",):
    if key in meta_a and key in meta_b and key not in args.ignore:
        if without_timings(meta_a.pop(key)) != without_timings(meta_b.pop(key)):
            problems.append(f"metadata {key} differs (beyond timings)")
for key in sorted(set(meta_a) | set(meta_b)):
    if key not in args.ignore and meta_a.get(key) != meta_b.get(key):
        problems.append(f"metadata {key} differs: {meta_a.get(key)!r} vs {meta_b.get(key)!r}")
if problems:
    print("\n".join(problems))
    sys.exit(1)
print(f"identical: {len(header_a)} tensors")
