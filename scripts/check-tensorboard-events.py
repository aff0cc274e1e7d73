#!/usr/bin/env python3
"""Reads a dlc run's TensorBoard logs with TensorBoard's own reader.

dlc writes TensorBoard logs as Keras's TensorBoard callback does: the runs
RUN_DIR/train, RUN_DIR/validation and RUN_DIR/test, each with epoch_loss
and epoch_accuracy (train also epoch_learning_rate), one point per epoch
(step = the 1-based epoch of metrics.csv). TensorBoard's record reader
verifies both masked CRC-32Cs of every record; this script then checks
that the scalars agree with metrics.csv in RUN_DIR, and with
--batch N / --histograms / --summary that batch-level points (N of them),
parameter histograms and the model summary text are there.

    scripts/make-venv.sh   # or: pip install tensorboard
    ~/.cache/dlc/venv/bin/python scripts/check-tensorboard-events.py runs/cnn_bn
"""

import argparse
import csv
import math
import os
import sys

from tensorboard.backend.event_processing import event_accumulator

# (run, tag) -> metrics.csv column.
COLUMNS = {
    ("train", "epoch_loss"): "loss",
    ("train", "epoch_accuracy"): "accuracy",
    ("train", "epoch_learning_rate"): "learning_rate",
    ("validation", "epoch_loss"): "val_loss",
    ("validation", "epoch_accuracy"): "val_accuracy",
    ("test", "epoch_loss"): "test_loss",
    ("test", "epoch_accuracy"): "test_accuracy",
}


def load(run_dir, run):
    acc = event_accumulator.EventAccumulator(
        os.path.join(run_dir, run),
        size_guidance={event_accumulator.SCALARS: 0,
                       event_accumulator.HISTOGRAMS: 0,
                       event_accumulator.TENSORS: 0})
    acc.Reload()  # Raises on a bad CRC or a malformed record.
    return acc


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("--batch", type=int, default=0,
                        help="expect this many batch_loss points")
    parser.add_argument("--histograms", action="store_true",
                        help="expect parameter histograms in train")
    parser.add_argument("--summary", action="store_true",
                        help="expect the model_summary text in train")
    args = parser.parse_args()

    runs = {}
    for run in ("train", "validation", "test"):
        if os.path.isdir(os.path.join(args.run_dir, run)):
            runs[run] = load(args.run_dir, run)
            print(f"{run}: scalars {sorted(runs[run].Tags()['scalars'])}")
    if "train" not in runs:
        sys.exit(f"error: no train run in {args.run_dir}")
    for tag in ("epoch_loss", "epoch_accuracy", "epoch_learning_rate"):
        if tag not in runs["train"].Tags()["scalars"]:
            sys.exit(f"error: train has no {tag}")

    csv_path = os.path.join(args.run_dir, "metrics.csv")
    with open(csv_path) as f:
        rows = {int(r["epoch"]): r for r in csv.DictReader(f)}
    checked = 0
    for (run, tag), column in COLUMNS.items():
        if run not in runs or tag not in runs[run].Tags()["scalars"]:
            continue
        events = runs[run].Scalars(tag)
        if [e.step for e in events] != sorted(rows):
            sys.exit(f"error: {run}/{tag} has steps {[e.step for e in events]}"
                     f", metrics.csv epochs {sorted(rows)}")
        for event in events:
            expected = rows[event.step][column]
            # Event values are float32; the CSV holds doubles.
            if not math.isclose(event.value, float(expected), rel_tol=1e-6,
                                abs_tol=1e-7):
                sys.exit(f"error: {run}/{tag} at epoch {event.step} is "
                         f"{event.value} in the events, {expected} in CSV")
            checked += 1
    print(f"ok: {checked} scalar values match metrics.csv")

    train = runs["train"]
    if args.batch:
        points = train.Scalars("batch_loss")
        if len(points) != args.batch:
            sys.exit(f"error: {len(points)} batch_loss points, expected "
                     f"{args.batch}")
        print(f"ok: {len(points)} batch_loss points")
    if args.histograms:
        tags = train.Tags()["histograms"]
        if not tags:
            sys.exit("error: no histograms in train")
        for tag in tags:
            for h in train.Histograms(tag):
                value = h.histogram_value
                if sum(value.bucket) != value.num or value.num <= 0:
                    sys.exit(f"error: histogram {tag} at {h.step}: buckets "
                             f"sum to {sum(value.bucket)}, num {value.num}")
        print(f"ok: histograms {sorted(tags)}")
    if args.summary:
        if "model_summary" not in train.Tags()["tensors"]:
            sys.exit("error: no model_summary text in train")
        text = train.Tensors("model_summary")[0].tensor_proto.string_val[0]
        if b"Total params" not in text:
            sys.exit(f"error: the model summary text is {text[:80]!r}")
        print("ok: model_summary text")


if __name__ == "__main__":
    main()
