"""Checks what `EXE gradients --checkpoint RUN/epoch-001.safetensors` wrote
against the run's next step (Python standard library only).

    check-gradients-file.py RUN_DIR LR GRADIENTS_FILE

With plain SGD and one step per epoch, the step after epoch 1 applies
W2 = W1 - LR * g: each `<param>/gradient` of the file must be (W1 - W2) / LR
from epoch-001/002.safetensors, and the file must also hold the batch's
logits and loss.
"""
import json
import math
import struct
import sys


def read(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        out[name] = struct.unpack("<%df" % ((end - begin) // 4),
                                  data[begin:end])
    return header.get("__metadata__", {}), out


run, lr, path = sys.argv[1], float(sys.argv[2]), sys.argv[3]
_, w1 = read(f"{run}/epoch-001.safetensors")
_, w2 = read(f"{run}/epoch-002.safetensors")
meta, grads = read(path)
print("metadata:", ", ".join(f"{k}={meta[k]}" for k in sorted(meta)))
ok = "logits" in grads and "loss" in grads and math.isfinite(grads["loss"][0])
print("logits:", len(grads.get("logits", ())), "loss:", grads.get("loss"))
for name in sorted(n[: -len("/gradient")] for n in grads if n.endswith("/gradient")):
    g = grads[name + "/gradient"]
    want = [(a - b) / lr for a, b in zip(w1[name], w2[name])]
    scale = max(abs(v) for v in want)
    diff = max(abs(x - y) for x, y in zip(g, want))
    good = len(g) == len(want) and scale > 0 and diff <= 1e-4 * scale
    ok &= good
    print(f"{name}/gradient: {len(g)} values, scale {scale:.3g}, "
          f"{'matches' if good else 'DIFFERS from'} (W1 - W2) / lr")
print("ok: the gradients are the next step's" if ok else "FAILED")
sys.exit(0 if ok else 1)
