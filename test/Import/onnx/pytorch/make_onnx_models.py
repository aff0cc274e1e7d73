#!/usr/bin/env python3
"""Writes the ONNX models and PyTorch reference values of OnnxPyTorchTest.

Test-data generator (run with the venv of scripts/make-venv.sh: torch and
onnx from PyPI); its outputs are committed, small:

  cnn_bn.onnx           a reduced cnn_bn (conv-BN-ReLU x2, max pool, two
                        Linear layers), static batch 8
  cnn_bn_dynamic.onnx   the same weights with a dynamic batch dimension
  resnet.onnx           a small residual network (a basic block with its
                        skip Add, a strided conv, global average pool),
                        dynamic batch
  *.onnx.yaml           the training settings dlc reads (SGD momentum 0.9)
  golden.json           per model: PyTorch's eval-mode logits on the input
                        below, and the losses of 5 SGD steps from the
                        exported weights (train mode, batch statistics)

The input is computed, not stored: x[k] = ((k * 7919) % 1009) / 1009 - 0.5
over the NCHW batch, labels[n] = (3 n) % 10; OnnxPyTorchTest computes the
same. Models are exported in eval mode without constant folding (opset
17), which keeps BatchNormalization nodes (with folding, torch merges BN
into the preceding conv).

  ~/.cache/dlc/venv/bin/python test/Import/onnx/pytorch/make_onnx_models.py
"""

import json
import os

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
BATCH = 8
STEPS = 5
LR = 0.05
MOMENTUM = 0.9


def make_input(shape):
    n = 1
    for d in shape:
        n *= d
    values = [((k * 7919) % 1009) / 1009.0 - 0.5 for k in range(n)]
    return torch.tensor(values, dtype=torch.float32).reshape(shape)


def labels():
    return torch.tensor([(3 * n) % 10 for n in range(BATCH)], dtype=torch.long)


class CnnBn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, bias=False)
        self.bn2 = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(8 * 12 * 12, 16)
        self.fc2 = nn.Linear(16, 10)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(self.bn2(self.conv2(x)))
        x = self.pool(x)
        x = x.view(x.size(0), -1)
        return self.fc2(torch.relu(self.fc1(x)))


class Resnet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn0 = nn.BatchNorm2d(8)
        self.conv1 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(8)
        self.down = nn.Conv2d(8, 16, 3, stride=2, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(16)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = torch.relu(self.bn0(self.stem(x)))
        y = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(x + self.bn2(self.conv2(y)))
        x = torch.relu(self.bn3(self.down(x)))
        x = torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)
        return self.fc(x)


def export(model, shape, path, dynamic):
    model.eval()
    kwargs = {}
    if dynamic:
        kwargs["dynamic_axes"] = {"input": {0: "batch"}, "logits": {0: "batch"}}
    torch.onnx.export(model, make_input(shape), path, opset_version=17,
                      dynamo=False, do_constant_folding=False,
                      training=torch.onnx.TrainingMode.EVAL,
                      input_names=["input"], output_names=["logits"], **kwargs)


def reference(model, shape):
    model.eval()
    with torch.no_grad():
        logits = model(make_input(shape))
    state = {k: v.clone() for k, v in model.state_dict().items()}
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    losses = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(make_input(shape)), labels())
        loss.backward()
        opt.step()
        losses.append(loss.item())
    model.load_state_dict(state)
    return {"logits": [float(v) for v in logits.flatten()], "losses": losses}


def main():
    torch.manual_seed(0)
    sidecar = ("batch_size: %d\nloss: sparse_categorical_crossentropy\n"
               "optimizer: {SGD: {learning_rate: %g, momentum: %g}}\n"
               % (BATCH, LR, MOMENTUM))
    golden = {"batch": BATCH, "steps": STEPS}
    cnn = CnnBn()
    shape = [BATCH, 1, 28, 28]
    golden["cnn_bn"] = reference(cnn, shape)
    export(cnn, shape, os.path.join(HERE, "cnn_bn.onnx"), dynamic=False)
    export(cnn, shape, os.path.join(HERE, "cnn_bn_dynamic.onnx"), dynamic=True)
    res = Resnet()
    shape = [BATCH, 3, 16, 16]
    golden["resnet"] = reference(res, shape)
    export(res, shape, os.path.join(HERE, "resnet.onnx"), dynamic=True)
    for name in ["cnn_bn", "cnn_bn_dynamic", "resnet"]:
        with open(os.path.join(HERE, name + ".onnx.yaml"), "w") as f:
            f.write(sidecar)
    with open(os.path.join(HERE, "golden.json"), "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
