"""Checks an exported ONNX model with onnx's checker and onnxruntime.

  check_onnxruntime.py predict MODEL.onnx IMAGES.idx PREDICT.txt SCALE OFFSET
      the top-1 class and its probability (the softmax of the model's
      logits) of every image, as printed by the program's `predict --top 1`,
      must be onnxruntime's
  check_onnxruntime.py same REFERENCE.onnx MODEL.onnx
      both models give the same outputs on random inputs
  check_onnxruntime.py images OUT.idx N H W
      writes N random H x W images (IDX, uint8)
"""

import struct
import sys

import numpy as np


def read_idx(path):
    with open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data[4 + 4 * dims:], dtype=np.uint8).reshape(shape)


def main():
    mode = sys.argv[1]
    if mode == "images":
        n, h, w = (int(v) for v in sys.argv[3:6])
        pixels = np.random.RandomState(1).randint(0, 256, (n, h, w), np.uint8)
        with open(sys.argv[2], "wb") as f:
            f.write(struct.pack(">BBBB", 0, 0, 8, 3))
            f.write(struct.pack(">III", n, h, w))
            f.write(pixels.tobytes())
        return
    import onnx
    import onnxruntime as ort
    if mode == "same":
        reference, model = sys.argv[2], sys.argv[3]
        onnx.checker.check_model(onnx.load(model), full_check=True)
        dims = onnx.load(reference).graph.input[0].type.tensor_type.shape.dim
        shape = [5] + [d.dim_value for d in dims[1:]]
        x = np.random.RandomState(0).uniform(-1, 1, shape).astype(np.float32)
        a = ort.InferenceSession(reference).run(None, {"input": x})[0]
        b = ort.InferenceSession(model).run(None, {"input": x})[0]
        diff = float(np.abs(a - b).max())
        print("max difference %.3g" % diff)
        sys.exit(0 if diff < 1e-4 else 1)
    model, images, predicted = sys.argv[2], sys.argv[3], sys.argv[4]
    scale, offset = float(sys.argv[5]), float(sys.argv[6])
    onnx.checker.check_model(onnx.load(model), full_check=True)
    pixels = read_idx(images).astype(np.float32)
    x = (pixels * scale + offset)[:, None, :, :]  # NCHW, one channel
    logits = ort.InferenceSession(model).run(None, {"input": x})[0]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs = e / e.sum(axis=1, keepdims=True)
    agree = 0
    with open(predicted) as f:
        lines = [l for l in f if ":" in l]
    for line in lines:
        index, rest = line.split(":", 1)
        cls, pct = rest.split()[0], rest.split("(")[1].split("%")[0]
        row = probs[int(index)]
        if int(cls) == int(row.argmax()) and abs(100 * row.max() - float(pct)) <= 0.006:
            agree += 1
        else:
            print("image %s: predict says %s (%s%%), onnxruntime %d (%.2f%%)"
                  % (index, cls, pct, row.argmax(), 100 * row.max()))
    print("onnxruntime agrees with predict on %d of %d images" % (agree, len(lines)))
    sys.exit(0 if agree == len(lines) == len(pixels) else 1)


if __name__ == "__main__":
    main()
