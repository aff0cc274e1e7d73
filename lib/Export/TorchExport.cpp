//===- TorchExport.cpp - Trained weights and an nn.Module for PyTorch -----===//
//
// Walks @forward in order, as the ONNX exporter does, and writes for each op
// a line of the generated model.py (an nn.Module built of nn.Conv2d,
// nn.Linear, nn.BatchNorm2d and torch.nn.functional) plus the op's weights
// in PyTorch's names (`<module>.weight`, `.bias`, `.running_mean`, ...) and
// layouts: images are NCHW, convolution weights OIHW, linear weights
// [out, in]. The one op whose element order differs is a Flatten of an
// image (dlc flattens H, W, C like Keras, PyTorch C, H, W): when only Dense
// layers read it, their weight columns are permuted, which is what a user
// porting a Keras model by hand most easily gets wrong; otherwise model.py
// permutes the image back to NHWC before flattening.
//
//===----------------------------------------------------------------------===//

#include "dlc/Export/WeightsExport.h"

#include "ExportParameters.h"

#include "dlc/Dialect/DLC/IR/DLCDialect.h"
#include "dlc/Dialect/DLC/IR/DLCOps.h"
#include "dlc/Import/Import.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

using namespace mlir;
using namespace mlir::dlc;
using namespace mlir::dlc::exporting;

namespace {

const int64_t kToOIHW[] = {3, 2, 0, 1}; // of an HWCF filter

/// The PyTorch axis of dlc axis `axis` of a value of rank `rank`.
int64_t torchAxis(int64_t axis, int64_t rank) {
  if (axis < 0)
    axis += rank;
  static const int64_t map[] = {0, 2, 3, 1};
  return rank == 4 ? map[axis] : axis;
}

std::string tuple(ArrayRef<int64_t> values) {
  std::string s = "(";
  for (auto [i, v] : llvm::enumerate(values))
    s += (i ? ", " : "") + std::to_string(v);
  return s + (values.size() == 1 ? ",)" : ")");
}

/// The shortest Python float literal that reads back as the same float32.
std::string pyFloat(double value) {
  char text[32];
  for (int digits = 1; digits <= 9; ++digits) {
    std::snprintf(text, sizeof(text), "%.*g", digits, value);
    if (std::strtof(text, nullptr) == float(value))
      break;
  }
  return text;
}

/// A Python identifier from a layer name: "s2_proj", "dense_1".
std::string identifier(StringRef name) {
  static const llvm::StringSet<> reserved = {
      // Python keywords and names model.py uses.
      "False", "None", "True", "and", "as", "assert", "async", "await", "break",
      "class", "continue", "def", "del", "elif", "else", "except", "finally",
      "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal",
      "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
      "self", "torch", "nn", "F", "x",
      // nn.Module attributes a submodule must not replace.
      "forward", "training", "train", "eval", "to", "cpu", "cuda", "float",
      "half", "double", "type", "apply", "parameters", "buffers", "children",
      "modules", "state_dict", "load_state_dict", "zero_grad",
      "register_buffer", "register_parameter", "add_module", "named_modules",
      "requires_grad_"};
  std::string s;
  for (char c : name)
    s += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0])))
    s = "l_" + s;
  if (reserved.contains(s))
    s += "_";
  return s;
}

class TorchExporter {
public:
  TorchExporter(func::FuncOp forward, const WeightMap &weights)
      : forward(forward), weights(weights) {}

  LogicalResult run();

  struct Tensor {
    std::string key;
    Shape shape;
    std::vector<float> data;
    bool isCount = false; // num_batches_tracked: an int64 scalar
  };
  std::vector<Tensor> tensors;
  std::string initLines, forwardLines;

private:
  InFlightDiagnostic error(Operation *op) {
    // At the layer in the model file, without the op's IR.
    return emitError(op->getLoc()) << "PyTorch export: ";
  }
  FailureOr<std::vector<float>> weightOf(Value v, Operation *user) {
    return parameterData(forward, v, weights, user->getLoc(), "PyTorch export");
  }
  /// A fresh submodule name for the layer of `weight` (or of `op`).
  std::string moduleName(Value weight, Operation *op) {
    std::string base = parameterName(forward, weight);
    base =
        base.empty() ? layerName(op) : StringRef(base).rsplit('/').first.str();
    std::string name = identifier(base);
    for (int i = 1; !modules.insert(name).second; ++i)
      name = identifier(base) + "_" + std::to_string(i);
    return name;
  }
  static std::string layerName(Operation *op) {
    if (auto name = dyn_cast<NameLoc>(op->getLoc()))
      return name.getName().str();
    return "x";
  }
  /// The Python variable holding `v`.
  FailureOr<std::string> use(Value v, Operation *user) {
    auto it = vars.find(v);
    if (it != vars.end())
      return it->second;
    return error(user) << "reads a value that is not an activation (a weight "
                          "used as data has no PyTorch export)",
           failure();
  }
  /// Emits `name = expr` for the result of `op`, naming it after its layer;
  /// a name is reused when the value it held has no other reader.
  void assign(Operation *op, const std::string &expr) {
    std::string base = identifier(layerName(op));
    std::string name = base;
    for (int i = 1;; ++i) {
      auto held = holders.find(name);
      if (held == holders.end() ||
          llvm::all_of(held->second.getUsers(),
                       [&](Operation *user) { return user == op; }))
        break;
      name = base + "_" + std::to_string(i);
    }
    holders[name] = op->getResult(0);
    vars[op->getResult(0)] = name;
    forwardLines += "        " + name + " = " + expr + "\n";
  }
  void addTensor(const std::string &key, Shape shape, std::vector<float> data) {
    tensors.push_back({key, std::move(shape), std::move(data)});
  }
  /// Pads for F.pad (left, right, top, bottom) when not symmetric.
  static bool symmetric(ArrayRef<int64_t> p) {
    return p[0] == p[1] && p[2] == p[3];
  }

  LogicalResult exportOp(Operation *op);
  LogicalResult exportConv(Conv2DOp op);
  LogicalResult exportDense(DenseOp op);
  LogicalResult exportBatchNorm(BatchNormOp op);
  LogicalResult exportPool(Operation *op, bool isMax, ArrayRef<int64_t> k,
                           ArrayRef<int64_t> strides, ArrayRef<int64_t> p);

  func::FuncOp forward;
  const WeightMap &weights;
  llvm::DenseMap<Value, std::string> vars;
  llvm::StringMap<Value> holders;
  llvm::StringSet<> modules;
  /// Flatten results written as torch.flatten of the NCHW image: their [H,
  /// W, C], for the Dense layers that read them.
  llvm::DenseMap<Value, Shape> flatOfImage;
};

} // namespace

LogicalResult TorchExporter::exportConv(Conv2DOp op) {
  FailureOr<std::string> x = use(op.getInput(), op);
  FailureOr<std::vector<float>> w = weightOf(op.getFilter(), op);
  if (failed(x) || failed(w))
    return failure();
  Shape f = dimsOf(op.getFilter()); // [kh, kw, cin/g, f]
  int64_t groups = op.getGroups();
  SmallVector<int64_t, 4> p = op.getResolvedPads(); // [t, b, l, r]
  std::string name = moduleName(op.getFilter(), op);
  std::string input = *x;
  Shape padding = {p[0], p[2]};
  if (!symmetric(p)) {
    input = llvm::formatv("F.pad({0}, ({1}, {2}, {3}, {4}))", *x, p[2], p[3],
                          p[0], p[1]);
    padding = {0, 0};
  }
  initLines += llvm::formatv(
      "        self.{0} = nn.Conv2d({1}, {2}, kernel_size={3}, stride={4}, "
      "padding={5}, dilation={6}, groups={7}, bias={8})\n",
      name, f[2] * groups, f[3], tuple({f[0], f[1]}), tuple(op.getStrides()),
      tuple(padding), tuple(op.getDilations()), groups,
      op.getBias() ? "True" : "False");
  addTensor(name + ".weight", {f[3], f[2], f[0], f[1]},
            transposed(*w, f, kToOIHW));
  if (op.getBias()) {
    FailureOr<std::vector<float>> b = weightOf(op.getBias(), op);
    if (failed(b))
      return failure();
    addTensor(name + ".bias", {f[3]}, *b);
  }
  assign(op, "self." + name + "(" + input + ")");
  return success();
}

LogicalResult TorchExporter::exportDense(DenseOp op) {
  FailureOr<std::string> x = use(op.getInput(), op);
  FailureOr<std::vector<float>> k = weightOf(op.getKernel(), op);
  if (failed(x) || failed(k))
    return failure();
  Shape kshape = dimsOf(op.getKernel()); // [K, M]
  int64_t rowsK = kshape[0], m = kshape[1];
  auto flat = flatOfImage.find(op.getInput());
  if (flat != flatOfImage.end()) {
    // PyTorch's input is flattened in C, H, W order; dlc's kernel rows are
    // in H, W, C order.
    int64_t h = flat->second[0], w = flat->second[1], c = flat->second[2];
    std::vector<float> rows(k->size());
    for (int64_t ih = 0; ih < h; ++ih)
      for (int64_t iw = 0; iw < w; ++iw)
        for (int64_t ic = 0; ic < c; ++ic) {
          int64_t dlcRow = (ih * w + iw) * c + ic;
          int64_t torchRow = (ic * h + ih) * w + iw;
          std::memcpy(&rows[torchRow * m], &(*k)[dlcRow * m],
                      m * sizeof(float));
        }
    *k = std::move(rows);
  }
  std::string name = moduleName(op.getKernel(), op);
  initLines += llvm::formatv("        self.{0} = nn.Linear({1}, {2}, "
                             "bias={3})\n",
                             name, rowsK, m, op.getBias() ? "True" : "False");
  addTensor(name + ".weight", {m, rowsK}, transposed(*k, kshape, {1, 0}));
  if (op.getBias()) {
    FailureOr<std::vector<float>> b = weightOf(op.getBias(), op);
    if (failed(b))
      return failure();
    addTensor(name + ".bias", {m}, *b);
  }
  assign(op, "self." + name + "(" + *x + ")");
  return success();
}

LogicalResult TorchExporter::exportBatchNorm(BatchNormOp op) {
  FailureOr<std::string> x = use(op.getInput(), op);
  if (failed(x))
    return failure();
  Shape in = dimsOf(op.getInput());
  if (in.size() != 4 && in.size() != 2)
    return error(op) << "a batch norm of a rank-" << in.size()
                     << " value has no PyTorch export",
           failure();
  int64_t c = in.back();
  SmallVector<std::vector<float>> data;
  for (Value v :
       {op.getGamma(), op.getBeta(), op.getMean(), op.getVariance()}) {
    FailureOr<std::vector<float>> d = weightOf(v, op);
    if (failed(d))
      return failure();
    data.push_back(std::move(*d));
  }
  std::string name = moduleName(op.getMean(), op);
  // PyTorch's momentum weighs the new batch, Keras's the running value
  // (1 - 0.99 from the decimal Keras momentum, so that it reads 0.01).
  initLines += llvm::formatv(
      "        self.{0} = nn.BatchNorm{1}d({2}, eps={3}, momentum={4})\n", name,
      in.size() == 4 ? 2 : 1, c, pyFloat(op.getEpsilon().convertToDouble()),
      pyFloat(1.0 -
              std::strtod(pyFloat(op.getMomentum().convertToDouble()).c_str(),
                          nullptr)));
  addTensor(name + ".weight", {c}, data[0]);
  addTensor(name + ".bias", {c}, data[1]);
  addTensor(name + ".running_mean", {c}, data[2]);
  addTensor(name + ".running_var", {c}, data[3]);
  tensors.push_back({name + ".num_batches_tracked", {}, {}, true});
  assign(op, "self." + name + "(" + *x + ")");
  return success();
}

LogicalResult TorchExporter::exportPool(Operation *op, bool isMax,
                                        ArrayRef<int64_t> k,
                                        ArrayRef<int64_t> s,
                                        ArrayRef<int64_t> p) {
  FailureOr<std::string> x = use(op->getOperand(0), op);
  if (failed(x))
    return failure();
  std::string input = *x;
  bool padded = llvm::any_of(p, [](int64_t v) { return v != 0; });
  // PyTorch pads symmetrically, at most half the window.
  bool native = symmetric(p) && 2 * p[0] <= k[0] && 2 * p[2] <= k[1];
  std::string padding;
  if (padded && native) {
    padding = ", padding=" + tuple({p[0], p[2]});
  } else if (padded && isMax) {
    input = llvm::formatv("F.pad({0}, ({1}, {2}, {3}, {4}), "
                          "value=float(\"-inf\"))",
                          *x, p[2], p[3], p[0], p[1]);
  } else if (padded) {
    return error(op) << "an average pooling with padding " << tuple(p)
                     << " (top, bottom, left, right) has no PyTorch export",
           failure();
  }
  if (isMax)
    assign(op, llvm::formatv("F.max_pool2d({0}, {1}, {2}{3})", input, tuple(k),
                             tuple(s), padding));
  else
    // dlc averages over the window's pixels inside the image.
    assign(op, llvm::formatv("F.avg_pool2d({0}, {1}, {2}{3}, "
                             "count_include_pad=False)",
                             input, tuple(k), tuple(s), padding));
  return success();
}

LogicalResult TorchExporter::exportOp(Operation *op) {
  if (isa<arith::ConstantOp>(op))
    return success();
  // Identity at inference: Dropout, RandomFlip, RandomTranslation.
  if (isa<DropoutOp, RandomFlipOp, RandomTranslationOp>(op)) {
    FailureOr<std::string> x = use(op->getOperand(0), op);
    if (failed(x))
      return failure();
    vars[op->getResult(0)] = *x;
    auto flat = flatOfImage.find(op->getOperand(0));
    if (flat != flatOfImage.end())
      flatOfImage[op->getResult(0)] = flat->second;
    return success();
  }
  if (auto conv = dyn_cast<Conv2DOp>(op))
    return exportConv(conv);
  if (auto dense = dyn_cast<DenseOp>(op))
    return exportDense(dense);
  if (auto bn = dyn_cast<BatchNormOp>(op))
    return exportBatchNorm(bn);
  if (auto pool = dyn_cast<MaxPool2DOp>(op))
    return exportPool(op, true, pool.getPoolSize(), pool.getStrides(),
                      pool.getResolvedPads());
  if (auto pool = dyn_cast<AvgPool2DOp>(op))
    return exportPool(op, false, pool.getPoolSize(), pool.getStrides(),
                      pool.getResolvedPads());
  if (auto ret = dyn_cast<func::ReturnOp>(op)) {
    if (ret.getNumOperands() != 1)
      return error(op) << "@forward must return one value", failure();
    if (flatOfImage.count(ret.getOperand(0)))
      return error(op) << "the model output is a Flatten of an image",
             failure();
    FailureOr<std::string> x = use(ret.getOperand(0), op);
    if (failed(x))
      return failure();
    forwardLines += "        return " + *x + "\n";
    return success();
  }
  for (Value operand : op->getOperands())
    if (flatOfImage.count(operand))
      return error(op) << "internal: a permuted Flatten read by "
                       << op->getName(),
             failure();
  if (auto flatten = dyn_cast<FlattenOp>(op)) {
    FailureOr<std::string> x = use(flatten.getInput(), op);
    if (failed(x))
      return failure();
    Shape in = dimsOf(flatten.getInput());
    bool onlyDense = llvm::all_of(op->getUsers(), [&](Operation *user) {
      return isa<DenseOp, DropoutOp>(user);
    });
    if (in.size() == 4 && onlyDense) {
      assign(op, "torch.flatten(" + *x + ", 1)");
      flatOfImage[flatten.getResult()] = {in[1], in[2], in[3]};
    } else if (in.size() == 4) {
      // Keras's element order (H, W, C).
      assign(op, "torch.flatten(" + *x + ".permute(0, 2, 3, 1), 1)");
    } else {
      assign(op, "torch.flatten(" + *x + ", 1)");
    }
    return success();
  }
  if (auto reshape = dyn_cast<ReshapeOp>(op)) {
    FailureOr<std::string> x = use(reshape.getInput(), op);
    if (failed(x))
      return failure();
    Shape in = dimsOf(reshape.getInput()), target = dimsOf(reshape.getResult());
    std::string expr = in.size() == 4 ? *x + ".permute(0, 2, 3, 1)" : *x;
    Shape rest(target.begin() + 1, target.end());
    std::string dims = "-1";
    for (int64_t d : rest)
      dims += ", " + std::to_string(d);
    expr += ".reshape(" + dims + ")";
    if (target.size() == 4)
      expr += ".permute(0, 3, 1, 2)";
    assign(op, expr);
    return success();
  }
  auto unary = [&](StringRef fn, StringRef extra = "") -> LogicalResult {
    FailureOr<std::string> x = use(op->getOperand(0), op);
    if (failed(x))
      return failure();
    assign(op, (fn + "(" + *x + extra + ")").str());
    return success();
  };
  if (isa<ReluOp>(op))
    return unary("F.relu");
  if (isa<SigmoidOp>(op))
    return unary("torch.sigmoid");
  if (isa<TanhOp>(op))
    return unary("torch.tanh");
  if (auto leaky = dyn_cast<LeakyReluOp>(op))
    return unary("F.leaky_relu",
                 ", " + pyFloat(leaky.getAlpha().convertToDouble()));
  if (auto softmax = dyn_cast<SoftmaxOp>(op))
    return unary(
        "torch.softmax",
        ", dim=" + std::to_string(torchAxis(
                       softmax.getAxis(), dimsOf(softmax.getInput()).size())));
  if (auto gap = dyn_cast<GlobalAvgPoolOp>(op))
    return unary("torch.mean", ", dim=(2, 3)");
  if (auto add = dyn_cast<AddOp>(op)) {
    FailureOr<std::string> a = use(add.getLhs(), op), b = use(add.getRhs(), op);
    if (failed(a) || failed(b))
      return failure();
    assign(op, *a + " + " + *b);
    return success();
  }
  if (auto biasAdd = dyn_cast<BiasAddOp>(op)) {
    FailureOr<std::string> x = use(biasAdd.getInput(), op);
    FailureOr<std::vector<float>> b = weightOf(biasAdd.getBias(), op);
    if (failed(x) || failed(b))
      return failure();
    std::string name = moduleName(biasAdd.getBias(), op);
    int64_t c = b->size();
    initLines += llvm::formatv(
        "        self.{0} = nn.Parameter(torch.zeros({1}))\n", name, c);
    addTensor(name, {c}, *b);
    bool image = dimsOf(biasAdd.getInput()).size() == 4;
    assign(op, *x + " + self." + name + (image ? ".view(1, -1, 1, 1)" : ""));
    return success();
  }
  if (auto concat = dyn_cast<ConcatOp>(op)) {
    std::string list;
    for (Value v : concat.getInputs()) {
      FailureOr<std::string> x = use(v, op);
      if (failed(x))
        return failure();
      list += (list.empty() ? "" : ", ") + *x;
    }
    assign(op, llvm::formatv("torch.cat([{0}], dim={1})", list,
                             torchAxis(concat.getAxis(),
                                       dimsOf(concat.getResult()).size())));
    return success();
  }
  return error(op) << "'" << op->getName() << "' has no PyTorch export",
         failure();
}

LogicalResult TorchExporter::run() {
  if (forward.getNumArguments() == 0)
    return emitError(forward.getLoc())
           << "PyTorch export: @forward takes no input";
  vars[forward.getArgument(0)] = "x";
  holders["x"] = forward.getArgument(0);
  for (Operation &op : forward.getBody().front())
    if (failed(exportOp(&op)))
      return failure();
  return success();
}

/// The safetensors bytes of `tensors`.
static std::string safetensors(ArrayRef<TorchExporter::Tensor> tensors) {
  std::string header, data;
  {
    llvm::raw_string_ostream os(header);
    llvm::json::OStream json(os);
    json.objectBegin();
    json.attributeObject("__metadata__",
                         [&] { json.attribute("format", "pt"); });
    for (const TorchExporter::Tensor &t : tensors) {
      size_t begin = data.size();
      if (t.isCount) {
        int64_t zero = 0;
        data.append(reinterpret_cast<const char *>(&zero), sizeof(zero));
      } else {
        data.append(reinterpret_cast<const char *>(t.data.data()),
                    t.data.size() * sizeof(float));
      }
      json.attributeObject(t.key, [&] {
        json.attribute("dtype", t.isCount ? "I64" : "F32");
        json.attributeArray("shape", [&] {
          for (int64_t d : t.shape)
            json.value(d);
        });
        json.attributeArray("data_offsets", [&] {
          json.value(int64_t(begin));
          json.value(int64_t(data.size()));
        });
      });
    }
    json.objectEnd();
  }
  // The data starts 8-byte aligned.
  header.append((8 - header.size() % 8) % 8, ' ');
  std::string bytes(8, '\0');
  uint64_t size = header.size();
  for (int i = 0; i < 8; ++i)
    bytes[i] = char((size >> (8 * i)) & 0xff);
  return bytes + header + data;
}

LogicalResult mlir::dlc::exportTorch(ModuleOp module, const WeightMap &weights,
                                     StringRef directory,
                                     StringRef safetensorsName,
                                     StringRef sourceName) {
  auto forward = module.lookupSymbol<func::FuncOp>(kForwardFuncName);
  if (!forward)
    return emitError(module.getLoc())
           << "PyTorch export: the module has no @forward";
  TorchExporter exporter(forward, weights);
  if (failed(exporter.run()))
    return failure();

  StringRef modelName = module.getSymName().value_or("model");
  Shape inShape = dimsOf(forward.getArgument(0));
  std::string inputDoc = inShape.size() == 4
                             ? llvm::formatv("N x {0} x {1} x {2} (NCHW)",
                                             inShape[3], inShape[1], inShape[2])
                                   .str()
                             : "N x " + std::to_string(inShape.back());
  std::string py;
  llvm::raw_string_ostream os(py);
  os << "\"\"\"" << modelName << ": the dlc model " << sourceName
     << " as a PyTorch module.\n\n"
     << "Generated by `dlc export --format torch`; the trained weights are in "
     << safetensorsName << ":\n\n"
     << "    from safetensors.torch import load_file\n"
     << "    model = Model()\n"
     << "    model.load_state_dict(load_file(\"" << safetensorsName << "\"))\n"
     << "    model.eval()\n"
     << "    probabilities_or_logits = model(normalize(images))\n\n"
     << "The input is " << inputDoc
     << ", float32, normalized as dlc's runtime\n"
     << "normalizes raw pixel values (see normalize below).\n\"\"\"\n\n"
     << "import torch\nimport torch.nn.functional as F\nfrom torch import nn\n";
  auto values = [&](StringRef key) {
    std::string text = "[";
    if (auto norm =
            module->getAttrOfType<DictionaryAttr>(attrs::kInputNormalization))
      if (auto v = norm.getAs<DenseF32ArrayAttr>(key))
        for (auto [i, x] : llvm::enumerate(v.asArrayRef()))
          text += (i ? ", " : "") + llvm::formatv("{0:e9}", x).str();
    return text + "]";
  };
  std::string scale = values("scale"), offset = values("offset");
  os << "\n# What dlc does to raw pixel values (0..255) before the model, per "
        "channel.\n"
     << "INPUT_SCALE = " << (scale == "[]" ? "[1.0]" : scale) << "\n"
     << "INPUT_OFFSET = " << (offset == "[]" ? "[0.0]" : offset) << "\n\n\n"
     << "def normalize(raw):\n"
     << "    \"\"\"raw pixel values (" << inputDoc
     << ") -> the model's input.\"\"\"\n"
     << "    shape = (1, -1" << (inShape.size() == 4 ? ", 1, 1" : "") << ")\n"
     << "    scale = torch.tensor(INPUT_SCALE, dtype=raw.dtype).view(shape)\n"
     << "    offset = torch.tensor(INPUT_OFFSET, dtype=raw.dtype).view(shape)\n"
     << "    return raw * scale + offset\n\n\n"
     << "class Model(nn.Module):\n"
     << "    def __init__(self):\n"
     << "        super().__init__()\n"
     << (exporter.initLines.empty() ? "        pass\n" : exporter.initLines)
     << "\n    def forward(self, x):\n"
     << exporter.forwardLines;

  // Made only now, so that a failed export leaves no empty directory.
  if (std::error_code ec = llvm::sys::fs::create_directories(directory))
    return emitError(module.getLoc()) << "PyTorch export: cannot create the "
                                         "directory '"
                                      << directory << "': " << ec.message();
  SmallString<256> weightsPath(directory), pyPath(directory);
  llvm::sys::path::append(weightsPath, safetensorsName);
  llvm::sys::path::append(pyPath, "model.py");
  std::string errorMessage;
  auto weightsFile = openOutputFile(weightsPath, &errorMessage);
  if (!weightsFile)
    return emitError(module.getLoc()) << "PyTorch export: " << errorMessage;
  auto pyFile = openOutputFile(pyPath, &errorMessage);
  if (!pyFile)
    return emitError(module.getLoc()) << "PyTorch export: " << errorMessage;
  weightsFile->os() << safetensors(exporter.tensors);
  pyFile->os() << py;
  weightsFile->keep();
  pyFile->keep();
  return success();
}
