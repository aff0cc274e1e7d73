#!/usr/bin/env python3
"""Golden values from PyTorch for dlc's gradient and optimizer checks.

Run once (PyTorch from PyPI; never a dependency of dlc itself):
    python3 test/e2e/golden/make_golden.py [--fashion-mnist DIR]
It writes, next to this script:
  cnn_bn_grads.safetensors  loss and every parameter gradient of cnn_bn
                            (training-mode batch norm, no dropout) on one
                            batch of 8, computed in float64;
  optimizers.safetensors    three steps of SGD, SGD+momentum, SGD+Nesterov
                            with weight decay, SGD with dampening, Adam and
                            AdamW (torch.optim);
  cnn_bn_losses.json        the loss of each of 200 training steps of cnn_bn
                            (Adam, lr 1e-3, batch 64, no dropout) on the first
                            12800 Fashion-MNIST training images, in order.

Tensors that both sides need (weights, inputs) are not stored: they come
from `det_uniform`, a counter-based generator that the C++ tests
reimplement (splitmix64 of (stream << 32) + index, top 24 bits / 2^24).
"""

import argparse
import gzip
import json
import math
import os
import struct

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
MASK = (1 << 64) - 1


def det_uniform(stream, n, low, high):
    """n values in [low, high): splitmix64((stream << 32) + i) >> 40 / 2^24."""
    z = (np.arange(n, dtype=np.uint64) + np.uint64((stream << 32) & MASK))
    z = z + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    u = (z >> np.uint64(40)).astype(np.float64) / float(1 << 24)
    return low + (high - low) * u


def glorot_limit(shape):
    """Keras glorot_uniform limit: conv HWCF or dense [in, out]."""
    receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    fan_in, fan_out = shape[-2] * receptive, shape[-1] * receptive
    return math.sqrt(6.0 / (fan_in + fan_out))


# cnn_bn's parameters in @forward order (Keras names), with their streams.
CNN_BN_PARAMS = [
    ("conv2d/kernel", (3, 3, 1, 32)),
    ("batch_normalization/gamma", (32,)),
    ("batch_normalization/beta", (32,)),
    ("conv2d_1/kernel", (3, 3, 32, 64)),
    ("batch_normalization_1/gamma", (64,)),
    ("batch_normalization_1/beta", (64,)),
    ("dense/kernel", (9216, 128)),
    ("dense/bias", (128,)),
    ("dense_1/kernel", (128, 10)),
    ("dense_1/bias", (10,)),
]


def cnn_bn_init(dtype):
    """Kernels: deterministic glorot_uniform; gamma 1; beta and biases 0."""
    params = {}
    for stream, (name, shape) in enumerate(CNN_BN_PARAMS, start=1):
        n = int(np.prod(shape))
        if name.endswith("kernel"):
            lim = glorot_limit(shape)
            v = det_uniform(stream, n, -lim, lim)
        elif name.endswith("gamma"):
            v = np.ones(n)
        else:
            v = np.zeros(n)
        params[name] = torch.tensor(v.reshape(shape), dtype=dtype,
                                    requires_grad=True)
    return params


def conv_nhwc(x, k):
    """Keras Conv2D (valid, stride 1) on NHWC with an HWCF kernel."""
    y = F.conv2d(x.permute(0, 3, 1, 2), k.permute(3, 2, 0, 1))
    return y.permute(0, 2, 3, 1)


def bn_train(x, gamma, beta, eps=1e-3):
    mean = x.mean(dim=(0, 1, 2))
    var = x.var(dim=(0, 1, 2), unbiased=False)
    return (x - mean) / torch.sqrt(var + eps) * gamma + beta


def cnn_bn_forward(p, x):
    """cnn_bn without dropout, training-mode batch norm, NHWC throughout."""
    h = F.relu(bn_train(conv_nhwc(x, p["conv2d/kernel"]),
                        p["batch_normalization/gamma"],
                        p["batch_normalization/beta"]))
    h = F.relu(bn_train(conv_nhwc(h, p["conv2d_1/kernel"]),
                        p["batch_normalization_1/gamma"],
                        p["batch_normalization_1/beta"]))
    h = F.max_pool2d(h.permute(0, 3, 1, 2), 2).permute(0, 2, 3, 1)
    h = h.reshape(h.shape[0], -1)  # NHWC flatten, as Keras channels_last.
    h = F.relu(h @ p["dense/kernel"] + p["dense/bias"])
    return h @ p["dense_1/kernel"] + p["dense_1/bias"]


def save_safetensors(path, tensors, metadata=None):
    """Minimal safetensors writer (F32/I32 little-endian, sorted names)."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        dtype = {np.dtype("float32"): "F32", np.dtype("int32"): "I32"}[a.dtype]
        data = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)


# Every 97th element of the large dense kernel gradient is stored, plus the
# full tensor's L2 norm; every other gradient is stored whole.
DENSE_SAMPLE_STRIDE = 97


def make_gradients():
    torch.manual_seed(0)
    p = cnn_bn_init(torch.float64)
    x = torch.tensor(det_uniform(100, 8 * 28 * 28, 0.0, 1.0)
                     .reshape(8, 28, 28, 1), dtype=torch.float64)
    labels = torch.arange(8) % 10
    loss = F.cross_entropy(cnn_bn_forward(p, x), labels)
    loss.backward()
    out = {"loss": np.array(loss.item(), dtype=np.float32)}
    for name, _ in CNN_BN_PARAMS:
        g = p[name].grad.numpy()
        if name == "dense/kernel":
            flat = g.reshape(-1)
            out[name + "/sampled"] = flat[::DENSE_SAMPLE_STRIDE].astype(
                np.float32)
            out[name + "/norm"] = np.array(np.linalg.norm(flat),
                                           dtype=np.float32)
        else:
            out[name] = g.astype(np.float32)
    save_safetensors(os.path.join(HERE, "cnn_bn_grads.safetensors"), out,
                     {"batch": 8, "input_stream": 100,
                      "dense_sample_stride": DENSE_SAMPLE_STRIDE})
    print("cnn_bn loss", loss.item())


OPTIMIZER_CASES = {
    # name: (torch optimizer factory, dlc attributes for the test)
    "sgd": lambda ps: torch.optim.SGD(ps, lr=0.1),
    "sgd_momentum": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9),
    "sgd_nesterov_wd": lambda ps: torch.optim.SGD(
        ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    # ONNX's Momentum (beta = 1 - dampening): the first step is undamped.
    "sgd_dampening": lambda ps: torch.optim.SGD(
        ps, lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.01),
    "adam": lambda ps: torch.optim.Adam(ps, lr=0.01, betas=(0.9, 0.999),
                                        eps=1e-7, weight_decay=0.001),
    "adamw": lambda ps: torch.optim.AdamW(ps, lr=0.01, betas=(0.9, 0.999),
                                          eps=1e-7, weight_decay=0.004),
}
OPT_SIZE, OPT_STEPS = 37, 3


def make_optimizers():
    out = {}
    p0 = det_uniform(200, OPT_SIZE, -1.0, 1.0)
    grads = [det_uniform(201 + s, OPT_SIZE, -1.0, 1.0) for s in range(OPT_STEPS)]
    out["param0"] = p0.astype(np.float32)
    for s, g in enumerate(grads):
        out[f"grad{s}"] = g.astype(np.float32)
    for name, factory in OPTIMIZER_CASES.items():
        p = torch.tensor(p0.astype(np.float32), dtype=torch.float32,
                         requires_grad=True)
        opt = factory([p])
        for s, g in enumerate(grads):
            p.grad = torch.tensor(g.astype(np.float32))
            opt.step()
            out[f"{name}/step{s}"] = p.detach().numpy().copy()
    save_safetensors(os.path.join(HERE, "optimizers.safetensors"), out,
                     {"steps": OPT_STEPS})


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def make_loss_curve(data_dir, steps=200, batch=64):
    images = read_idx(os.path.join(data_dir, "train-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(data_dir, "train-labels-idx1-ubyte.gz"))
    x_all = torch.tensor(images[:steps * batch].astype(np.float32) / 255.0)
    y_all = torch.tensor(labels[:steps * batch].astype(np.int64))
    p = cnn_bn_init(torch.float32)
    opt = torch.optim.Adam(list(p.values()), lr=1e-3, eps=1e-7)
    losses = []
    for s in range(steps):
        x = x_all[s * batch:(s + 1) * batch].reshape(batch, 28, 28, 1)
        y = y_all[s * batch:(s + 1) * batch]
        opt.zero_grad()
        loss = F.cross_entropy(cnn_bn_forward(p, x), y)
        loss.backward()
        opt.step()
        losses.append(round(loss.item(), 6))
    with open(os.path.join(HERE, "cnn_bn_losses.json"), "w") as f:
        json.dump({"optimizer": "adam", "learning_rate": 1e-3,
                   "epsilon": 1e-7, "batch": batch, "losses": losses}, f)
        f.write("\n")
    print("loss curve", losses[0], "->", losses[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fashion-mnist",
                        default="/usr/share/datasets/fashion-mnist")
    args = parser.parse_args()
    torch.set_num_threads(2)
    make_gradients()
    make_optimizers()
    make_loss_curve(args.fashion_mnist)


if __name__ == "__main__":
    main()
