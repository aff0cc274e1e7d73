#!/usr/bin/env python3
"""PyTorch baselines for scripts/gpu-check.sh: the same networks as
examples/fashion_mnist/cnn_bn.yaml and examples/cifar10/resnet_small.yaml,
the same optimizers, one training step (forward, loss, backward, update)
timed on the GPU in eager mode, eager with channels_last, and
torch.compile. The batch is already on the GPU (dlc's times include the
host's batch assembly and upload). Prints one JSON object per line:
{"model", "batch", "mode", "ms_per_step", "images_per_sec"}.

  torch_bench.py MODEL BATCH [--steps 100] [--modes eager,channels_last,compile]
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class CnnBn(nn.Module):
    input_shape = (1, 28, 28)

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 32, 3, bias=False)
        self.b1 = nn.BatchNorm2d(32, eps=1e-3, momentum=0.01)
        self.c2 = nn.Conv2d(32, 64, 3, bias=False)
        self.b2 = nn.BatchNorm2d(64, eps=1e-3, momentum=0.01)
        self.d1 = nn.Linear(9216, 128)
        self.d2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.b1(self.c1(x)))
        x = F.relu(self.b2(self.c2(x)))
        x = F.dropout(F.max_pool2d(x, 2), 0.25, self.training)
        x = F.dropout(F.relu(self.d1(torch.flatten(x, 1))), 0.5, self.training)
        return self.d2(x)

    def optimizer(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3, eps=1e-7)


def conv_bn(cin, cout, k, stride):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2, bias=False),
                         nn.BatchNorm2d(cout, eps=1e-3, momentum=0.01))


class ResnetSmall(nn.Module):
    input_shape = (3, 32, 32)

    def __init__(self):
        super().__init__()
        self.stem = conv_bn(3, 16, 3, 1)
        self.s1 = nn.ModuleList([conv_bn(16, 16, 3, 1), conv_bn(16, 16, 3, 1)])
        self.s2 = nn.ModuleList([conv_bn(16, 32, 3, 2), conv_bn(32, 32, 3, 1),
                                 conv_bn(16, 32, 1, 2)])
        self.s3 = nn.ModuleList([conv_bn(32, 64, 3, 2), conv_bn(64, 64, 3, 1),
                                 conv_bn(32, 64, 1, 2)])
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        # RandomFlip (horizontal) stands in for dlc's augmentation cost.
        if self.training:
            x = torch.where(torch.rand(x.shape[0], 1, 1, 1, device=x.device) < 0.5,
                            x.flip(3), x)
        x = F.relu(self.stem(x))
        x = F.relu(x + self.s1[1](F.relu(self.s1[0](x))))
        x = F.relu(self.s2[1](F.relu(self.s2[0](x))) + self.s2[2](x))
        x = F.relu(self.s3[1](F.relu(self.s3[0](x))) + self.s3[2](x))
        return self.fc(x.mean((2, 3)))

    def optimizer(self):
        return torch.optim.SGD(self.parameters(), lr=0.1, momentum=0.9,
                               nesterov=True, weight_decay=1e-4)


MODELS = {"cnn_bn": CnnBn, "resnet_small": ResnetSmall}


def bench(name, batch, mode, steps, device="cuda"):
    torch.manual_seed(0)
    model = MODELS[name]().to(device)
    x = torch.randn(batch, *model.input_shape, device=device)
    y = torch.randint(0, 10, (batch,), device=device)
    if mode in ("channels_last", "compile"):
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = model.optimizer()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    if mode == "compile":
        step = torch.compile(step)
    model.train()
    for _ in range(20):
        step()
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    sync()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    sync()
    ms = (time.perf_counter() - start) * 1e3 / steps
    return {"model": name, "batch": batch, "mode": "torch " + mode,
            "ms_per_step": ms, "images_per_sec": batch * 1e3 / ms}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model", choices=sorted(MODELS))
    p.add_argument("batch", type=int)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--modes", default="eager,channels_last,compile")
    p.add_argument("--device", default="cuda", help="cpu: a smoke test")
    args = p.parse_args()
    torch.backends.cudnn.benchmark = True
    for mode in args.modes.split(","):
        try:
            print(json.dumps(bench(args.model, args.batch, mode, args.steps, args.device)),
                  flush=True)
        except Exception as e:  # e.g. torch.compile without a compiler
            print(json.dumps({"model": args.model, "batch": args.batch,
                              "mode": "torch " + mode, "error": str(e)[:200]}),
                  flush=True)


if __name__ == "__main__":
    main()
