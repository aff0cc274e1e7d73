#!/usr/bin/env python3
"""More backend tests of ONNX's training operators (Momentum, Adam).

ONNX's own test data (libonnx-testdata: test_momentum, test_nesterov_momentum,
test_adam and their _multiple variants) runs every operator at T = 0 only,
where Momentum applies no beta and Adam no bias correction, so the
parameterization that matters after the first step (beta_adjusted = beta,
Adam's learning-rate correction sqrt(1 - beta^T) / (1 - alpha^T) with
epsilon added to sqrt(H) before it, norm_coefficient_post) is not tested
there. These cases test it, in the same format (model.onnx,
test_data_set_0/input_*.pb, output_*.pb), with the expected outputs from
ONNX's reference implementation (onnx.reference), not from dlc.
DLCOnnxConformanceTests runs them with ONNX's own tests.

Run once (onnx from PyPI, test-only; scripts/make-venv.sh's venv has it):
    ~/.cache/dlc/venv/bin/python test/Import/onnx/training-ops/make_training_tests.py
"""

import os
import shutil

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto
from onnx.reference import ReferenceEvaluator

HERE = os.path.dirname(os.path.abspath(__file__))
DOMAIN = "ai.onnx.preview.training"


def values(seed, shape, lo, hi):
    return np.random.default_rng(seed).uniform(lo, hi, shape).astype(np.float32)


def write_case(name, op, attrs, tensors, t, r=0.1):
    """One test: `tensors` is [(X, G, V[, H]), ...] of float32 arrays."""
    n = len(tensors)
    groups = len(tensors[0])
    letters = "XGVH"[:groups]
    in_names = ["R", "T"] + [f"{letters[g]}{k}" for g in range(groups)
                             for k in range(n)]
    out_names = [f"{letters[g]}{k}_new" for g in [0] + list(range(2, groups))
                 for k in range(n)]
    feeds = {"R": np.array(r, dtype=np.float32),
             "T": np.array(t, dtype=np.int64)}
    for g in range(groups):
        for k in range(n):
            feeds[f"{letters[g]}{k}"] = tensors[k][g]
    node = helper.make_node(op, in_names, out_names, domain=DOMAIN, **attrs)
    inputs = [helper.make_tensor_value_info(
        i, TensorProto.INT64 if i == "T" else TensorProto.FLOAT,
        feeds[i].shape) for i in in_names]
    ref = ReferenceEvaluator(node)
    outs = ref.run(None, feeds)
    outputs = [helper.make_tensor_value_info(o, TensorProto.FLOAT, v.shape)
               for o, v in zip(out_names, outs)]
    graph = helper.make_graph([node], name, inputs, outputs)
    model = helper.make_model(graph, producer_name="dlc-training-tests",
                              opset_imports=[helper.make_opsetid("", 17),
                                             helper.make_opsetid(DOMAIN, 1)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    d = os.path.join(HERE, "node", name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "test_data_set_0"))
    onnx.save(model, os.path.join(d, "model.onnx"))
    for i, n_ in enumerate(in_names):
        with open(os.path.join(d, "test_data_set_0", f"input_{i}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(feeds[n_], n_).SerializeToString())
    for i, (n_, v) in enumerate(zip(out_names, outs)):
        with open(os.path.join(d, "test_data_set_0", f"output_{i}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(np.asarray(v, np.float32),
                                            n_).SerializeToString())


def main():
    x, g, v = (values(1, [5], -1, 1), values(2, [5], -1, 1),
               values(3, [5], -1, 1))
    h = values(4, [5], 0.001, 0.02)
    momentum = {"alpha": 0.9, "beta": 0.3, "norm_coefficient": 0.01}
    # T > 0: beta scales the gradient.
    write_case("test_momentum_t3", "Momentum",
               dict(momentum, mode="standard"), [(x, g, v)], t=3)
    write_case("test_nesterov_momentum_t3", "Momentum",
               dict(momentum, mode="nesterov"), [(x, g, v)], t=3)
    # A 4-D tensor (dlc holds it in NHWC order) and a second one.
    x4, g4, v4 = (values(5, [2, 3, 2, 2], -1, 1), values(6, [2, 3, 2, 2], -1, 1),
                  values(7, [2, 3, 2, 2], -1, 1))
    write_case("test_momentum_4d_multiple_t1", "Momentum",
               dict(momentum, mode="standard"), [(x4, g4, v4), (x, g, v)], t=1)
    # Adam after some steps: bias correction, and an epsilon as large as
    # sqrt(H), where adding it before or after the correction differs.
    adam = {"alpha": 0.9, "beta": 0.999, "epsilon": 0.05,
            "norm_coefficient": 0.01}
    write_case("test_adam_t3", "Adam", adam, [(x, g, v, h)], t=3)
    write_case("test_adam_post_multiple_t7", "Adam",
               dict(adam, norm_coefficient_post=0.02),
               [(x4, g4, v4, values(8, [2, 3, 2, 2], 0.001, 0.02)),
                (x, g, v, h)], t=7)
    # The schema's defaults (alpha 0.9, beta 0.999, epsilon 1e-6).
    write_case("test_adam_defaults_t2", "Adam", {}, [(x, g, v, h)], t=2)


if __name__ == "__main__":
    main()
