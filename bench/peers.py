#!/usr/bin/env python3
"""dlc against its peers: the same models trained by dlc, PyTorch (eager,
eager channels_last, torch.compile) and Keras 3 on JAX; one table.

Run through bench/peers.sh (it makes the venv). Usage:
  bench/peers.sh [--quick] [--models mlp,cnn,cnn_bn,resnet_small]
                 [--systems dlc,torch,torch-cl,torch-compile,keras-jax]
                 [--repeats R] [--steps T] [--warmup W] [--dlc PATH]

What it does, in order:
 1. Measures the machine's fp32 FMA peak (bench/fma_peak.c, clang -O3, AVX-512
    when /proc/cpuinfo has avx512f, else AVX2): one thread and all cores.
 2. Compiles each model with `dlc compile` (the compile time is dlc's
    "warm-up" column).
 3. Sanity check: a variant of each model without dropout and augmentation
    (they draw different random numbers in every system) is trained by dlc on
    a dataset of exactly one batch (first Fashion-MNIST images, or a
    deterministic pseudo-random CIFAR-like batch), so every step sees the
    same batch. dlc's initial weights come from one step with --lr 0 (the
    update is then exactly zero; the checkpoint holds the initial values,
    which depend only on (seed, tensor name)), of the model and of the
    variant: their parameters must be equal. PyTorch and Keras start from
    these weights (HWCF -> OIHW, (in,out) -> (out,in), and the dense after a
    flatten permuted from dlc's NHWC to PyTorch's NCHW order) and train the
    same batch; the losses of the first steps are printed side by side.
 4. Timing: for each repeat, for each model, each system in turn (so the
    systems are interleaved on a noisy machine) a fresh process trains W
    warm-up steps and T timed steps on in-memory random batches; its peak
    RSS comes from wait4. dlc trains `--data synthetic` for 1 + T/S epochs of
    S steps; its per-epoch training seconds (the sum of its steps: batch
    assembly + the compiled step) give ms/step per epoch; the first epoch is
    the warm-up. The table quotes the median over repeats of each run's
    median step.
 Threads = cores (the affinity of this process) for every system:
 torch.set_num_threads, XLA's intra-op threads plus the affinity for JAX,
 `--threads` for dlc.

FLOPs of one training step (the GFLOP/s and % peak columns):
  forward = 2 * sum over Conv2D and Dense of their multiply-adds
            (conv: B*Ho*Wo*Cout*kh*kw*Cin, dense: B*in*out),
  step    = 3 * forward (backward ~ 2x forward: the data and the weight
            gradients); batch norm, pooling, activations, loss and optimizer
            are not counted. % peak is against the all-core FMA peak.
"""

import argparse
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The models, layer for layer as in their YAML files (examples/...); names
# are dlc's tensor-name prefixes. Each node: (name, op, inputs or None for the
# previous node, attributes).
def _mlp():
    return [("flatten", "flatten", None, {}),
            ("dense", "dense", None, dict(units=256, act="relu")),
            ("dropout", "dropout", None, dict(rate=0.2)),
            ("dense_1", "dense", None, dict(units=128, act="relu")),
            ("dense_2", "dense", None, dict(units=10))]


def _cnn():
    return [("conv2d", "conv", None, dict(f=32, k=3, act="relu")),
            ("conv2d_1", "conv", None, dict(f=64, k=3, act="relu")),
            ("pool", "maxpool", None, {}),
            ("dropout", "dropout", None, dict(rate=0.25)),
            ("flatten", "flatten", None, {}),
            ("dense", "dense", None, dict(units=128, act="relu")),
            ("dropout_1", "dropout", None, dict(rate=0.5)),
            ("dense_1", "dense", None, dict(units=10))]


def _cnn_bn():
    return [("conv2d", "conv", None, dict(f=32, k=3, bias=False)),
            ("batch_normalization", "bn", None, {}),
            ("relu", "relu", None, {}),
            ("conv2d_1", "conv", None, dict(f=64, k=3, bias=False)),
            ("batch_normalization_1", "bn", None, {}),
            ("relu_1", "relu", None, {}),
            ("pool", "maxpool", None, {}),
            ("dropout", "dropout", None, dict(rate=0.25)),
            ("flatten", "flatten", None, {}),
            ("dense", "dense", None, dict(units=128, act="relu")),
            ("dropout_1", "dropout", None, dict(rate=0.5)),
            ("dense_1", "dense", None, dict(units=10))]


def _resnet_small():
    def cbn(conv, bn, f, s=1, k=3, inp=None):
        pad = "same" if k == 3 else "valid"
        return [(conv, "conv", inp, dict(f=f, k=k, s=s, pad=pad, bias=False)),
                (bn, "bn", None, {})]
    n = [("flip", "augment", None, {}), ("translate", "augment", None, {})]
    n += cbn("stem_conv", "stem_bn", 16) + [("stem", "relu", None, {})]
    n += cbn("s1_conv1", "s1_bn1", 16) + [("s1_relu1", "relu", None, {})]
    n += cbn("s1_conv2", "s1_bn2", 16)
    n += [("s1_add", "add", ["stem", "s1_bn2"], {}),
          ("s1_out", "relu", None, {})]
    for st, f, prev in (("s2", 32, "s1_out"), ("s3", 64, "s2_out")):
        n += cbn(st + "_conv1", st + "_bn1", f, s=2)
        n += [(st + "_relu1", "relu", None, {})]
        n += cbn(st + "_conv2", st + "_bn2", f)
        n += cbn(st + "_proj", st + "_proj_bn", f, s=2, k=1, inp=prev)
        n += [(st + "_add", "add", [st + "_bn2", st + "_proj_bn"], {}),
              (st + "_out", "relu", None, {})]
    n += [("pool", "gap", None, {}), ("logits", "dense", None, dict(units=10))]
    return n


MODELS = {
    "mlp": dict(yaml="examples/fashion_mnist/mlp.yaml", nodes=_mlp,
                batch=64, shape=(28, 28, 1),
                opt=dict(name="sgd", lr=0.05, momentum=0.9, nesterov=True,
                         wd=0.0)),
    "cnn": dict(yaml="examples/fashion_mnist/cnn.yaml", nodes=_cnn,
                batch=64, shape=(28, 28, 1),
                opt=dict(name="adam", lr=1e-3, b1=0.9, b2=0.999, eps=1e-7)),
    "cnn_bn": dict(yaml="examples/fashion_mnist/cnn_bn.yaml", nodes=_cnn_bn,
                   batch=64, shape=(28, 28, 1),
                   opt=dict(name="adam", lr=1e-3, b1=0.9, b2=0.999,
                            eps=1e-7)),
    "resnet_small": dict(yaml="examples/cifar10/resnet_small.yaml",
                         nodes=_resnet_small, batch=128, shape=(32, 32, 3),
                         mean=[125.3, 123.0, 113.9], std=[63.0, 62.1, 66.7],
                         opt=dict(name="sgd", lr=0.1, momentum=0.9,
                                  nesterov=True, wd=1e-4)),
}
BN_EPS, BN_MOMENTUM = 1e-3, 0.99   # Keras defaults, used by every model
SYSTEMS = ["dlc", "torch", "torch-cl", "torch-compile", "keras-jax"]


def tf_same_pads(size, k, s):
    """TensorFlow's 'same' padding (more at the end when odd)."""
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def shapes(model):
    """Per node: its output shape (H, W, C) or (features,), and the MACs of
    one image."""
    spec = MODELS[model]
    nodes = spec["nodes"]()
    out, macs, prev = {}, {}, "input"
    out["input"] = spec["shape"]
    for name, op, inputs, a in nodes:
        src = inputs[0] if isinstance(inputs, list) else (inputs or prev)
        x = out[src]
        macs[name] = 0
        if op == "conv":
            h, w, c = x
            s, k = a.get("s", 1), a["k"]
            if a.get("pad", "valid") == "same":
                ho, wo = -(-h // s), -(-w // s)
            else:
                ho, wo = (h - k) // s + 1, (w - k) // s + 1
            out[name] = (ho, wo, a["f"])
            macs[name] = ho * wo * a["f"] * k * k * c
        elif op == "maxpool":
            out[name] = (x[0] // 2, x[1] // 2, x[2])
        elif op == "flatten":
            out[name] = (math.prod(x),)
        elif op == "gap":
            out[name] = (x[2],)
        elif op == "dense":
            out[name] = (a["units"],)
            macs[name] = x[0] * a["units"]
        else:
            out[name] = x
        prev = name
    return nodes, out, macs


def step_flops(model):
    _, _, macs = shapes(model)
    return 3 * 2 * sum(macs.values()) * MODELS[model]["batch"]


def normalization(model):
    spec = MODELS[model]
    if "mean" in spec:
        scale = [1.0 / s for s in spec["std"]]
        offset = [-m / s for m, s in zip(spec["mean"], spec["std"])]
    else:
        scale, offset = [1.0 / 255.0], [0.0]
    return scale, offset


# ---------------------------------------------------------------- workers --

def load_init(path):
    from safetensors.numpy import load_file
    return load_file(path)


def build_torch(model, init, sanity):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    nodes, out, _ = shapes(model)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.mods = nn.ModuleDict()
            prev = "input"
            self.plan = []
            for name, op, inputs, a in nodes:
                src = inputs or [prev]
                if isinstance(src, str):
                    src = [src]
                x = out[src[0]]
                if op == "conv":
                    k, s = a["k"], a.get("s", 1)
                    if a.get("pad", "valid") == "same":
                        ph, pw = tf_same_pads(x[0], k, s), tf_same_pads(x[1], k, s)
                    else:
                        ph = pw = (0, 0)
                    sym = ph[0] == ph[1] and pw[0] == pw[1]
                    conv = nn.Conv2d(x[2], a["f"], k, s,
                                     padding=(ph[0], pw[0]) if sym else 0,
                                     bias=a.get("bias", True))
                    pad = None if sym else (pw[0], pw[1], ph[0], ph[1])
                    with torch.no_grad():
                        conv.weight.copy_(torch.from_numpy(
                            init[name + "/kernel"]).permute(3, 2, 0, 1))
                        if conv.bias is not None:
                            conv.bias.copy_(torch.from_numpy(init[name + "/bias"]))
                    self.mods[name] = conv
                    self.plan.append((name, op, src, pad, a.get("act")))
                elif op == "bn":
                    bn = nn.BatchNorm2d(x[2], eps=BN_EPS, momentum=1 - BN_MOMENTUM)
                    with torch.no_grad():
                        bn.weight.copy_(torch.from_numpy(init[name + "/gamma"]))
                        bn.bias.copy_(torch.from_numpy(init[name + "/beta"]))
                    self.mods[name] = bn
                    self.plan.append((name, op, src, None, None))
                elif op == "dense":
                    kern = init[name + "/kernel"]
                    if len(x) == 1 and src[0] in flat_from:
                        h, w, c = flat_from[src[0]]
                        kern = kern.reshape(h, w, c, -1).transpose(2, 0, 1, 3) \
                            .reshape(h * w * c, -1)
                    lin = nn.Linear(kern.shape[0], kern.shape[1])
                    with torch.no_grad():
                        lin.weight.copy_(torch.from_numpy(kern.T.copy()))
                        lin.bias.copy_(torch.from_numpy(init[name + "/bias"]))
                    self.mods[name] = lin
                    self.plan.append((name, op, src, None, a.get("act")))
                elif op == "dropout":
                    self.plan.append((name, op, src,
                                      0.0 if sanity else a["rate"], None))
                else:
                    self.plan.append((name, op, src, None, None))
                if op == "flatten":
                    flat_from[name] = x
                prev = name
            self.last = prev

        def forward(self, x):
            v = {"input": x}
            for name, op, src, extra, act in self.plan:
                y = v[src[0]]
                if op == "conv":
                    if extra is not None:
                        y = F.pad(y, extra)
                    y = self.mods[name](y)
                elif op in ("bn", "dense"):
                    y = self.mods[name](y)
                elif op == "relu":
                    y = F.relu(y)
                elif op == "maxpool":
                    y = F.max_pool2d(y, 2)
                elif op == "dropout":
                    y = F.dropout(y, extra, self.training) if extra > 0 else y
                elif op == "flatten":
                    y = torch.flatten(y, 1)
                elif op == "gap":
                    y = y.mean(dim=(2, 3))
                elif op == "add":
                    y = y + v[src[1]]
                # augment: no-op (timing runs use pre-made batches)
                if act == "relu":
                    y = F.relu(y)
                v[name] = y
            return v[self.last]

    flat_from = {}
    return Net()


def torch_optimizer(model, net):
    import torch
    o = MODELS[model]["opt"]
    if o["name"] == "adam":
        return torch.optim.Adam(net.parameters(), lr=o["lr"],
                                betas=(o["b1"], o["b2"]), eps=o["eps"])
    # Keras SGD: v = m*v - lr*g; nesterov w += m*v - lr*g. PyTorch's form
    # (v = m*v + g; w -= lr*(g + m*v)) is the same for a constant lr.
    # Weight decay is Keras's decoupled one, applied by hand in the step.
    return torch.optim.SGD(net.parameters(), lr=o["lr"],
                           momentum=o["momentum"], nesterov=o["nesterov"])


def run_torch(args, mode):
    import numpy as np
    import torch
    torch.set_num_threads(args.threads)
    model = args.model
    init = load_init(args.init)
    net = build_torch(model, init, args.sanity is not None)
    cl = mode == "torch-cl"
    if cl:
        net = net.to(memory_format=torch.channels_last)
    net.train()
    opt = torch_optimizer(model, net)
    wd = MODELS[model]["opt"].get("wd", 0.0)
    lr = MODELS[model]["opt"]["lr"]
    params = [p for p in net.parameters()]
    fwd = torch.compile(net) if mode == "torch-compile" else net
    loss_fn = torch.nn.CrossEntropyLoss()

    def step(x, y):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(fwd(x), y)
        loss.backward()
        if wd:
            with torch.no_grad():
                torch._foreach_mul_(params, 1.0 - lr * wd)
        opt.step()
        return loss

    def tensor(x):
        t = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
        return t.contiguous(memory_format=torch.channels_last) if cl else t

    if args.sanity is not None:
        d = np.load(args.sanity)
        x, y = tensor(d["x"]), torch.from_numpy(d["y"].astype(np.int64))
        return {"losses": [float(step(x, y)) for _ in range(args.steps)]}
    batches = make_batches(model, 4)
    data = [(tensor(x), torch.from_numpy(y.astype(np.int64))) for x, y in batches]
    return time_steps(lambda i: float(step(*data[i % len(data)])), args)


def run_keras(args):
    import numpy as np
    import keras
    from keras import layers
    model = args.model
    init = load_init(args.init)
    nodes, out, _ = shapes(model)
    spec = MODELS[model]
    inp = keras.Input(shape=spec["shape"], batch_size=spec["batch"])
    v, prev, weights = {"input": inp}, "input", {}
    for name, op, inputs, a in nodes:
        src = inputs or [prev]
        if isinstance(src, str):
            src = [src]
        x = v[src[0]]
        if op == "conv":
            layer = layers.Conv2D(a["f"], a["k"], strides=a.get("s", 1),
                                  padding=a.get("pad", "valid"),
                                  use_bias=a.get("bias", True),
                                  activation=a.get("act"), name=name)
            w = [init[name + "/kernel"]]
            if a.get("bias", True):
                w.append(init[name + "/bias"])
        elif op == "bn":
            layer = layers.BatchNormalization(momentum=BN_MOMENTUM,
                                              epsilon=BN_EPS, name=name)
            w = [init[name + "/gamma"], init[name + "/beta"],
                 np.zeros_like(init[name + "/gamma"]),
                 np.ones_like(init[name + "/gamma"])]
        elif op == "dense":
            layer = layers.Dense(a["units"], activation=a.get("act"), name=name)
            w = [init[name + "/kernel"], init[name + "/bias"]]
        elif op == "relu":
            layer, w = layers.ReLU(name=name), None
        elif op == "maxpool":
            layer, w = layers.MaxPooling2D(2, name=name), None
        elif op == "dropout":
            layer = layers.Dropout(0.0 if args.sanity is not None else a["rate"],
                                   name=name)
            w = None
        elif op == "flatten":
            layer, w = layers.Flatten(name=name), None
        elif op == "gap":
            layer, w = layers.GlobalAveragePooling2D(name=name), None
        elif op == "add":
            layer, w = layers.Add(name=name), None
        else:   # augment: identity here (timing runs use pre-made batches)
            layer, w = layers.Identity(name=name), None
        v[name] = layer([x, v[src[1]]]) if op == "add" else layer(x)
        if w is not None:
            weights[name] = (layer, w)
        prev = name
    net = keras.Model(inp, v[prev])
    for layer, w in weights.values():
        layer.set_weights(w)
    o = spec["opt"]
    if o["name"] == "adam":
        opt = keras.optimizers.Adam(o["lr"], beta_1=o["b1"], beta_2=o["b2"],
                                    epsilon=o["eps"])
    else:
        opt = keras.optimizers.SGD(o["lr"], momentum=o["momentum"],
                                   nesterov=o["nesterov"],
                                   weight_decay=o["wd"] or None)
    net.compile(optimizer=opt, jit_compile=True,
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))

    def step(x, y):
        net.reset_metrics()
        return float(net.train_on_batch(x, y))

    if args.sanity is not None:
        d = np.load(args.sanity)
        return {"losses": [step(d["x"], d["y"].astype(np.int32))
                           for _ in range(args.steps)]}
    data = [(x, y.astype(np.int32)) for x, y in make_batches(model, 4)]
    return time_steps(lambda i: step(*data[i % len(data)]), args)


def make_batches(model, n):
    import numpy as np
    spec = MODELS[model]
    rng = np.random.default_rng(0)
    return [(rng.standard_normal((spec["batch"],) + spec["shape"],
                                 dtype=np.float32),
             rng.integers(0, 10, spec["batch"]).astype(np.int64))
            for _ in range(n)]


def time_steps(step, args):
    start = time.perf_counter()
    step(0)
    first = time.perf_counter() - start
    for i in range(1, args.warmup):
        step(i)
    times = []
    for i in range(args.steps):
        t = time.perf_counter()
        step(i)
        times.append(time.perf_counter() - t)
    return {"step_s": statistics.median(times), "warmup_s": first}


def worker(args):
    os.sched_setaffinity(0, set(json.loads(args.cpus)))
    if args.worker == "keras-jax":
        result = run_keras(args)
    else:
        result = run_torch(args, args.worker)
    print("RESULT " + json.dumps(result), flush=True)


# ----------------------------------------------------------------- driver --

def run_measured(cmd, env=None):
    """Runs cmd and returns (stdout, stderr, status, peak RSS MiB) with the
    child's own max RSS (wait4)."""
    with tempfile.TemporaryFile("w+") as fo, tempfile.TemporaryFile("w+") as fe:
        p = subprocess.Popen(cmd, stdout=fo, stderr=fe, env=env, text=True)
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        fo.seek(0), fe.seek(0)
        return fo.read(), fe.read(), p.returncode, ru.ru_maxrss / 1024.0


def measure_peak(work, threads):
    src = os.path.join(ROOT, "bench", "fma_peak.c")
    exe = os.path.join(work, "fma_peak")
    avx512 = "avx512f" in open("/proc/cpuinfo").read()
    isa = ["-mavx512f", "-mfma"] if avx512 else ["-mavx2", "-mfma"]
    cc = next((c for c in ("clang-22", "clang", "cc") if
               subprocess.call(["sh", "-c", "command -v " + c],
                               stdout=subprocess.DEVNULL) == 0), "cc")
    subprocess.check_call([cc, "-O3"] + isa + [src, "-o", exe, "-lpthread"])
    single, full, _ = subprocess.check_output([exe, str(threads)],
                                              text=True).split()
    return float(single), float(full), "AVX-512" if avx512 else "AVX2"


def sanity_yaml(model, path):
    """The model without dropout (rate 0) and augmentation layers."""
    text = open(os.path.join(ROOT, MODELS[model]["yaml"])).read()
    text = re.sub(r"Dropout: \{rate: [0-9.]+\}", "Dropout: {rate: 0.0}", text)
    text = "\n".join(l for l in text.split("\n")
                     if not re.search(r"- Random\w+:", l))
    with open(path, "w") as f:
        f.write(text)


def sanity_data(model, work):
    """One batch of raw images in a directory dlc reads (IDX or CIFAR-10),
    and the same batch normalized as dlc does, NHWC, for the peers."""
    import gzip
    import numpy as np
    spec = MODELS[model]
    b, (h, w, c) = spec["batch"], spec["shape"]
    d = os.path.join(work, model + "-data")
    os.makedirs(d, exist_ok=True)
    fm = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"
    if c == 1 and os.path.exists(fm):
        with gzip.open(fm) as f:
            raw = np.frombuffer(f.read(), np.uint8, offset=16)[:b * h * w]
        with gzip.open(fm.replace("images-idx3", "labels-idx1")) as f:
            labels = np.frombuffer(f.read(), np.uint8, offset=8)[:b].copy()
        raw = raw.reshape(b, h, w, 1)
    else:   # deterministic pseudo-random pixels, smooth enough to learn
        rng = np.random.default_rng(1)
        raw = rng.integers(0, 256, (b, h, w, c), dtype=np.uint8)
        labels = (np.arange(b) % 10).astype(np.uint8)
    if c == 1:
        for split in ("train", "t10k"):
            with open(os.path.join(d, split + "-images-idx3-ubyte"), "wb") as f:
                f.write(np.array([0x803, b, h, w], ">i4").tobytes())
                f.write(raw.tobytes())
            with open(os.path.join(d, split + "-labels-idx1-ubyte"), "wb") as f:
                f.write(np.array([0x801, b], ">i4").tobytes())
                f.write(labels.tobytes())
    else:   # CIFAR-10: five non-empty train files, records label + CHW
        recs = np.concatenate([labels[:, None],
                               raw.transpose(0, 3, 1, 2).reshape(b, -1)], 1)
        for i, part in enumerate(np.array_split(recs, 5)):
            part.tofile(os.path.join(d, "data_batch_%d.bin" % (i + 1)))
        recs.tofile(os.path.join(d, "test_batch.bin"))
    scale, offset = normalization(model)
    x = raw.astype(np.float32) * np.array(scale, np.float32) + \
        np.array(offset, np.float32)
    npz = os.path.join(work, model + "-sanity.npz")
    np.savez(npz, x=x.astype(np.float32), y=labels.astype(np.int64))
    return d, npz


def dlc_losses(exe, data, steps, threads, out):
    """Per-step losses: one step per epoch on a one-batch dataset."""
    subprocess.check_call([exe, "train", "--data", data, "--validation-split",
                           "0", "--epochs", str(steps), "--threads",
                           str(threads), "--progress", "none", "--out", out],
                          stdout=subprocess.DEVNULL)
    rows = open(os.path.join(out, "metrics.csv")).read().split("\n")[1:]
    return [float(r.split(",")[2]) for r in rows if r]


def worker_cmd(system, model, init, args, cpus, extra):
    return [sys.executable, os.path.abspath(__file__), "--worker", system,
            "--model", model, "--init", init, "--threads", str(args.threads),
            "--cpus", json.dumps(sorted(cpus)), "--steps", str(args.steps),
            "--warmup", str(args.warmup)] + extra


def worker_env(args):
    env = dict(os.environ)
    env["KERAS_BACKEND"] = "jax"
    env["JAX_PLATFORMS"] = "cpu"
    env["XLA_FLAGS"] = ("--xla_cpu_multi_thread_eigen=true "
                        "intra_op_parallelism_threads=%d" % args.threads)
    env["OMP_NUM_THREADS"] = str(args.threads)
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    return env


def parse_result(out):
    for line in out.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return None


def driver(args):
    cpus = os.sched_getaffinity(0)
    args.threads = len(cpus)
    env = worker_env(args)
    work = tempfile.mkdtemp(prefix="dlc-peers-")
    args.work = work
    try:
        run_all(args, cpus, env, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_all(args, cpus, env, work):
    single, full, isa = measure_peak(work, args.threads)
    print("FMA peak (fp32, %s, measured): %.1f GFLOP/s on one core, %.1f on "
          "%d cores" % (isa, single, full, args.threads))
    print("threads: %d for every system; %d warm-up + %d timed steps per run,"
          " %d repeat(s), interleaved" % (args.threads, args.warmup,
                                          args.steps, args.repeats))
    exes, compile_s, inits = {}, {}, {}
    for m in args.models:
        exe = os.path.join(work, m)
        t = time.perf_counter()
        subprocess.check_call([args.dlc, "compile", os.path.join(
            ROOT, MODELS[m]["yaml"]), "-o", exe])
        compile_s[m] = time.perf_counter() - t
        exes[m] = exe
        # Sanity: the model without randomness, one batch, every system.
        y = os.path.join(work, m + "-sanity.yaml")
        sanity_yaml(m, y)
        sexe = exe + "-sanity"
        subprocess.check_call([args.dlc, "compile", y, "-o", sexe])
        data, npz = sanity_data(m, work)
        for e, tag in ((exe, "-init"), (sexe, "-sanity-init")):
            subprocess.check_call([e, "train", "--data", data,
                                   "--validation-split", "0", "--epochs", "1",
                                   "--lr", "0", "--progress", "none", "--out",
                                   os.path.join(work, m + tag)],
                                  stdout=subprocess.DEVNULL)
        inits[m] = os.path.join(work, m + "-init", "last.safetensors")
        # The variant must start where the model does (initial values depend
        # on (seed, tensor name) only, and the names are the same).
        a = load_init(inits[m])
        z = load_init(os.path.join(work, m + "-sanity-init", "last.safetensors"))
        state = re.compile(r"moving_|/(m|v|velocity)$")   # not parameters
        if sorted(a) != sorted(z) or any((a[t] != z[t]).any() for t in a
                                         if not state.search(t)):
            raise SystemExit("%s: the sanity variant's initial weights differ "
                             "from the model's" % m)
        k = args.sanity_steps
        cols = {"dlc": dlc_losses(sexe, data, k, args.threads,
                                  os.path.join(work, m + "-sanity-run"))}
        for s in ("torch", "keras-jax"):
            if s not in args.systems and not (s == "torch" and "dlc" in args.systems):
                continue
            cmd = worker_cmd(s, m, inits[m], args, cpus, ["--sanity", npz])
            cmd[cmd.index("--steps") + 1] = str(k)
            out, err, rc, _ = run_measured(cmd, env)
            r = parse_result(out)
            cols[s] = r["losses"] if r else None
            if not r:
                print("  %s sanity run failed: %s" % (s, err.strip()[-400:]))
        print("\nsanity %s (batch %d, dropout 0, no augmentation, the same "
              "batch every step, dlc's initial weights):" % (m, MODELS[m]["batch"]))
        names = [s for s in cols if cols[s]]
        print("  step " + "".join("%12s" % s for s in names))
        for i in range(k):
            print("  %4d " % (i + 1) + "".join("%12.5f" % cols[s][i] for s in names))
    results = {}
    for rep in range(args.repeats):
        for m in args.models:
            for s in args.systems:
                if s == "dlc":
                    res = time_dlc(exes[m], m, args)
                    res["warmup_s"] = compile_s[m]
                else:
                    out, err, rc, rss = run_measured(
                        worker_cmd(s, m, inits[m], args, cpus, []), env)
                    res = parse_result(out)
                    if res is None:
                        print("%s %s failed (exit %d): %s" %
                              (s, m, rc, err.strip()[-600:]))
                        continue
                    res["rss"] = rss
                results.setdefault((m, s), []).append(res)
    print_table(results, args, full)


def time_dlc(exe, model, args):
    b = MODELS[model]["batch"]
    per_epoch = args.steps_per_epoch
    epochs = 1 + max(1, -(-args.steps // per_epoch))
    out = tempfile.mkdtemp(prefix="run-", dir=args.work)
    cmd = [exe, "train", "--data",
           "synthetic:train=%d,test=%d,seed=1" % (b * per_epoch, b),
           "--validation-split", "0", "--epochs", str(epochs), "--threads",
           str(args.threads), "--progress", "none", "--out", out]
    _, err, rc, rss = run_measured(cmd)
    if rc != 0:
        raise SystemExit("dlc training failed: " + err)
    rows = [r.split(",") for r in
            open(os.path.join(out, "metrics.csv")).read().split("\n")[1:] if r]
    ms = [float(r[10]) / per_epoch for r in rows[1:]]   # the first: warm-up
    return {"step_s": statistics.median(ms), "rss": rss}


def print_table(results, args, peak):
    print("\n| model | batch | system | images/s | ms/step | GFLOP/s | % peak "
          "| peak RSS MiB | compile/warm-up s |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for m in args.models:
        b, flops = MODELS[m]["batch"], step_flops(m)
        for s in args.systems:
            rs = results.get((m, s))
            if not rs:
                print("| %s | %d | %s | failed | | | | | |" % (m, b, s))
                continue
            t = statistics.median(r["step_s"] for r in rs)
            rss = statistics.median(r["rss"] for r in rs)
            warm = statistics.median(r["warmup_s"] for r in rs)
            g = flops / t / 1e9
            print("| %s | %d | %s | %.0f | %.1f | %.1f | %.1f%% | %.0f | %.1f |"
                  % (m, b, s, b / t, 1e3 * t, g, 100 * g / peak, rss, warm))
    print("\nGFLOP/s = 3 x 2 x (conv + dense multiply-adds) per step / step "
          "time; %% peak of the all-core FMA peak (%.1f GFLOP/s). dlc's "
          "warm-up is `dlc compile`; PyTorch's and Keras's the first step "
          "(torch.compile / XLA compile included)." % peak)
    print("GFLOP per step: " + ", ".join("%s %.3f" % (m, step_flops(m) / 1e9)
                                         for m in args.models))
    print_memory_table(results, args)


def print_memory_table(results, args):
    """Peak RSS of dlc next to PyTorch eager's (the issue's figure: dlc
    at most 0.5x), for the models where both ran."""
    rows = []
    for m in args.models:
        d, t = results.get((m, "dlc")), results.get((m, "torch"))
        if d and t:
            rows.append((m, statistics.median(r["rss"] for r in d),
                         statistics.median(r["rss"] for r in t)))
    if not rows:
        return
    print("\n| model | batch | dlc peak RSS MiB | PyTorch eager peak RSS MiB "
          "| dlc / PyTorch |")
    print("|---|---|---:|---:|---:|")
    for m, d, t in rows:
        print("| %s | %d | %.0f | %.0f | %.2fx |"
              % (m, MODELS[m]["batch"], d, t, d / t))
    print("Peak RSS: the training process's own maximum resident set "
          "(wait4), dataset, compiled code and runtime included.")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="few steps, one repeat: checks that the bench works")
    p.add_argument("--models", default="mlp,cnn,cnn_bn,resnet_small")
    p.add_argument("--systems", default=",".join(SYSTEMS))
    p.add_argument("--repeats", type=int)
    p.add_argument("--steps", type=int, help="timed steps per run")
    p.add_argument("--warmup", type=int, help="warm-up steps per run")
    p.add_argument("--sanity-steps", type=int, default=5)
    p.add_argument("--dlc", default=os.environ.get(
        "DLC", os.path.join(ROOT, "build", "bin", "dlc")))
    # Worker mode (internal).
    p.add_argument("--worker")
    p.add_argument("--model")
    p.add_argument("--init")
    p.add_argument("--threads", type=int)
    p.add_argument("--cpus")
    p.add_argument("--sanity")
    args = p.parse_args()
    if args.worker:
        return worker(args)
    args.models = [m for m in args.models.split(",") if m]
    args.systems = [s for s in args.systems.split(",") if s]
    for m in args.models:
        if m not in MODELS:
            p.error("unknown model '%s' (known: %s)" % (m, ", ".join(MODELS)))
    for s in args.systems:
        if s not in SYSTEMS:
            p.error("unknown system '%s' (known: %s)" % (s, ", ".join(SYSTEMS)))
    q = args.quick
    args.repeats = args.repeats or (1 if q else 3)
    args.steps = args.steps or (5 if q else 50)
    args.warmup = args.warmup or (3 if q else 10)
    args.steps_per_epoch = 5 if q else 10
    args.sanity_steps = 3 if q and args.sanity_steps == 5 else args.sanity_steps
    if not os.access(args.dlc, os.X_OK):
        p.error("no dlc driver at %s (build it, or pass --dlc / DLC=)" % args.dlc)
    driver(args)


if __name__ == "__main__":
    main()
