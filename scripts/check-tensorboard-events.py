#!/usr/bin/env python3
"""Reads a dlc run's TensorBoard event files with TensorBoard's own reader.

Optional check, not part of the test suite (it needs `pip install
tensorboard`). TensorBoard's record reader verifies both masked CRC-32Cs of
every record; this script then checks that the scalars the runtime writes
are there and agree with metrics.csv in the same directory.

    python3 -m venv .venv && .venv/bin/pip install tensorboard
    .venv/bin/python scripts/check-tensorboard-events.py runs/cnn_bn
"""

import csv
import math
import os
import sys

from tensorboard.backend.event_processing import event_accumulator

REQUIRED = ["loss", "accuracy", "learning_rate"]


def main(run_dir):
    acc = event_accumulator.EventAccumulator(
        run_dir, size_guidance={event_accumulator.SCALARS: 0})
    acc.Reload()  # Raises on a bad CRC or a malformed record.
    tags = acc.Tags()["scalars"]
    print(f"{run_dir}: scalars {sorted(tags)}")
    missing = [t for t in REQUIRED if t not in tags]
    if missing:
        sys.exit(f"error: missing scalars {missing}")

    csv_path = os.path.join(run_dir, "metrics.csv")
    if not os.path.exists(csv_path):
        return
    with open(csv_path) as f:
        rows = {int(r["epoch"]): r for r in csv.DictReader(f)}
    checked = 0
    for tag in tags:
        if tag not in next(iter(rows.values()), {}):
            continue
        for event in acc.Scalars(tag):
            expected = rows.get(event.step, {}).get(tag, "")
            if expected == "":
                continue
            # Event values are float32; the CSV holds doubles.
            if not math.isclose(event.value, float(expected), rel_tol=1e-6,
                                abs_tol=1e-7):
                sys.exit(f"error: {tag} at epoch {event.step} is "
                         f"{event.value} in the events, {expected} in CSV")
            checked += 1
    print(f"ok: {checked} scalar values match metrics.csv")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
