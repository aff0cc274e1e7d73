#!/usr/bin/env python3
"""Replays a dlc run's metrics.csv through Keras 3's own callbacks.

    check-keras-callbacks.py RUN_DIR [--early-stopping K=V,...]
                                     [--reduce-lr K=V,...]

Each epoch's logs (loss, accuracy, val_loss, val_accuracy as dlc measured
them) go to keras.callbacks.EarlyStopping / ReduceLROnPlateau built with the
given arguments (Keras's names: monitor, patience, min_delta, mode, factor,
cooldown, min_lr, baseline, start_from_epoch), on a stand-in model that only
holds an optimizer learning rate and stop_training. Prints the epochs at
which Keras stops and the learning rates it sets, and checks them against
dlc's: the run must end where Keras stops, and each epoch's learning rate
in metrics.csv must be the one Keras's optimizer holds at that epoch.

Needs keras (the venv of scripts/make-venv.sh); exits 1 on a mismatch.
"""

import argparse
import csv
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import keras  # noqa: E402
import numpy as np  # noqa: E402


def parse_kwargs(text):
    kwargs = {}
    for item in filter(None, (text or "").split(",")):
        key, value = item.split("=", 1)
        try:
            kwargs[key] = int(value)
        except ValueError:
            try:
                kwargs[key] = float(value)
            except ValueError:
                kwargs[key] = value
    return kwargs


class StandIn:
    """What the two callbacks touch of a model."""

    class Optimizer:
        def __init__(self, learning_rate):
            self.learning_rate = np.float32(learning_rate)

    def __init__(self, learning_rate):
        self.optimizer = StandIn.Optimizer(learning_rate)
        self.stop_training = False

    def get_weights(self):
        return []

    def set_weights(self, weights):
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("run")
    parser.add_argument("--early-stopping")
    parser.add_argument("--reduce-lr")
    parser.add_argument("--epochs", type=int, required=True,
                        help="the run's --epochs")
    args = parser.parse_args()

    with open(os.path.join(args.run, "metrics.csv")) as f:
        rows = list(csv.DictReader(f))
    logs_of = []
    for row in rows:
        logs = {k: float(row[k]) for k in
                ("loss", "accuracy", "val_loss", "val_accuracy") if row[k]}
        logs_of.append(logs)
    dlc_rates = [float(row["learning_rate"]) for row in rows]

    model = StandIn(dlc_rates[0])
    callbacks = []
    if args.early_stopping is not None:
        callbacks.append(
            keras.callbacks.EarlyStopping(**parse_kwargs(args.early_stopping)))
    if args.reduce_lr is not None:
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(**parse_kwargs(args.reduce_lr)))
    for c in callbacks:
        c.set_model(model)
        c.on_train_begin()

    ok = True
    keras_epochs = 0
    for epoch in range(args.epochs):
        if epoch >= len(rows):
            break
        rate = float(model.optimizer.learning_rate)
        if not np.isclose(rate, dlc_rates[epoch], rtol=1e-6, atol=0):
            print(f"MISMATCH: epoch {epoch + 1}: Keras's learning rate "
                  f"{rate}, dlc's {dlc_rates[epoch]}")
            ok = False
        keras_epochs = epoch + 1
        before = rate
        for c in callbacks:
            c.on_epoch_end(epoch, dict(logs_of[epoch]))
        after = float(model.optimizer.learning_rate)
        if after != before:
            print(f"keras: epoch {epoch + 1}: learning rate -> {after:.6g}")
        if model.stop_training:
            print(f"keras: epoch {epoch + 1}: early stopping")
            break
    if len(rows) < args.epochs and not model.stop_training:
        print(f"MISMATCH: dlc stopped after epoch {len(rows)} of "
              f"{args.epochs}, Keras does not stop there")
        ok = False
    elif keras_epochs != len(rows):
        print(f"MISMATCH: Keras trains {keras_epochs} epochs, dlc "
              f"{len(rows)}")
        ok = False
    print("ok: dlc's epochs and learning rates are Keras's" if ok else
          "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
