"""Loads weights exported by `dlc export --format keras|torch` into Keras 3
(JAX backend) and PyTorch and compares their predictions with dlc's.

  check_weights.py images OUT.idx N H W C
      writes N random H x W x C images (IDX, uint8)
  check_weights.py keras MODEL.yaml|MODEL.json WEIGHTS.h5 IMAGES.idx RAW.txt TORCHDIR
      builds the Keras model from dlc's YAML (the layer list, with Keras's
      own layer classes and arguments) or from the Keras JSON, loads the
      weights with model.load_weights(), and compares its outputs with
      RAW.txt (the program's `predict --raw`)
  check_weights.py top1 TOP1.txt RAW.txt
      the probability `predict --top 1` prints for image 0 is its raw
      output (for a model that ends in softmax)
  check_weights.py torch TORCHDIR IMAGES.idx RAW.txt
      imports TORCHDIR/model.py, loads model.safetensors with
      load_state_dict (strict) and compares likewise

Both take the input as dlc's runtime does: raw pixels normalized with the
constants the exported model.py records (a Keras model whose own layers
rescale, e.g. a Rescaling layer of a Keras JSON, gets the raw pixels).
"""

import importlib.util
import json
import os
import re
import struct
import sys

import numpy as np

TOLERANCE = 1e-5


def read_idx(path):
    with open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    images = np.frombuffer(data[4 + 4 * dims:], dtype=np.uint8).reshape(shape)
    if images.ndim == 3:
        images = images[..., None]
    return images.astype(np.float32)  # N, H, W, C


def read_raw(path):
    rows = {}
    for line in open(path):
        index, values = line.split(":")
        rows[int(index)] = [float(v) for v in values.split()]
    return np.array([rows[i] for i in range(len(rows))], dtype=np.float32)


def load_module(directory):
    spec = importlib.util.spec_from_file_location(
        "exported_model", os.path.join(directory, "model.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def normalized(images, module):
    scale = np.array(module.INPUT_SCALE, np.float32)
    offset = np.array(module.INPUT_OFFSET, np.float32)
    return images * scale + offset


def compare(name, got, want):
    diff = float(np.max(np.abs(got - want)))
    agree = int(np.sum(np.argmax(got, 1) == np.argmax(want, 1)))
    print(f"{name}: {len(want)} images, top-1 agrees on {agree}, "
          f"max difference {diff:.3g}")
    if got.shape != want.shape or diff > TOLERANCE * max(
            1.0, float(np.max(np.abs(want)))):
        print(f"{name}: MISMATCH (tolerance {TOLERANCE})")
        sys.exit(1)
    print(f"{name}: same predictions as dlc")


def flow_mapping(text):
    """A YAML flow mapping of plain scalars and lists, `{filters: 32,
    padding: same}`, as a dict (the venv has no YAML package; dlc's example
    models write their layers this way)."""
    text = re.sub(r"#.*", "", text)
    quoted = re.sub(r"(?<![\w.\-])([A-Za-z_][\w]*)", r'"\1"', text)
    value = json.loads(quoted)
    fix = {"true": True, "false": False, "null": None}
    def scalar(v):
        if isinstance(v, list):
            return [scalar(x) for x in v]
        return fix.get(v, v) if isinstance(v, str) else v
    return {k: scalar(v) for k, v in value.items()}


def read_model_yaml(path):
    """The name, input shape and layers of a dlc model YAML whose layers are
    `- Class: {flow mapping}` lines."""
    text = open(path).read()
    name = re.search(r"^name:\s*(\S+)", text, re.M)
    shape = re.search(r"^input:.*?shape:\s*\[([^\]]*)\]", text, re.M | re.S)
    layers = []
    body = text[text.index("\nlayers:") + 1:]
    for line in body.splitlines()[1:]:
        stripped = line.split("#")[0].strip()
        if not stripped:
            continue
        match = re.match(r"-\s*(\w+):\s*(\{.*\})\s*$", stripped)
        if not match:
            break
        layers.append((match.group(1), flow_mapping(match.group(2))))
    return (name.group(1) if name else "model",
            tuple(int(d) for d in shape.group(1).split(",")), layers)


def keras_from_yaml(path):
    import keras
    name, shape, layers = read_model_yaml(path)
    inputs = keras.Input(shape=shape, name="input")
    tensors = {"input": inputs}
    x = inputs
    for cls, config in layers:
        sources = config.pop("inputs", None)
        layer = getattr(keras.layers, cls)(**config)
        if sources is None:
            args = x
        elif isinstance(sources, str):
            args = tensors[sources]
        else:
            args = [tensors[s] for s in sources]
        x = layer(args)
        tensors[layer.name] = x
    return keras.Model(inputs, x, name=name)


def main():
    mode = sys.argv[1]
    if mode == "images":
        n, h, w, c = (int(v) for v in sys.argv[3:7])
        pixels = np.random.RandomState(1).randint(0, 256, (n, h, w, c),
                                                  np.uint8)
        with open(sys.argv[2], "wb") as f:
            if c == 1:
                f.write(struct.pack(">BBBB", 0, 0, 8, 3))
                f.write(struct.pack(">III", n, h, w))
            else:
                f.write(struct.pack(">BBBB", 0, 0, 8, 4))
                f.write(struct.pack(">IIII", n, h, w, c))
            f.write(pixels.tobytes())
        return
    if mode == "keras":
        os.environ["KERAS_BACKEND"] = "jax"
        import keras
        model_path, weights, images, raw, torch_dir = sys.argv[2:7]
        if model_path.endswith(".json"):
            model = keras.models.model_from_json(open(model_path).read())
        else:
            model = keras_from_yaml(model_path)
        model.load_weights(weights)
        x = read_idx(images)
        if not any(isinstance(l, keras.layers.Rescaling)
                   for l in model.layers):
            x = normalized(x, load_module(torch_dir))
        compare("keras", np.asarray(model.predict(x, verbose=0)),
                read_raw(raw))
        return
    if mode == "top1":
        line = open(sys.argv[2]).readline()
        percent = float(re.search(r"\(([\d.]+)%\)", line).group(1))
        want = float(np.max(read_raw(sys.argv[3])[0]))
        print(f"top-1 {percent}%, output {want:.6f}")
        if abs(percent / 100 - want) > 0.00006:
            sys.exit("predict's probability is not the model's")
        print("predict prints the model's probability")
        return
    if mode == "torch":
        import torch
        from safetensors.torch import load_file
        torch_dir, images, raw = sys.argv[2:5]
        module = load_module(torch_dir)
        model = module.Model()
        model.load_state_dict(
            load_file(os.path.join(torch_dir, "model.safetensors")))
        model.eval()
        x = torch.from_numpy(read_idx(images)).permute(0, 3, 1, 2)
        with torch.no_grad():
            got = model(module.normalize(x)).numpy()
        compare("torch", got, read_raw(raw))
        return
    sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
