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
// permutes the image back to NHWC before flattening. What is found here is
// a plan (WeightsPlan.h: tensors and the lines of model.py), which
// Writers/WeightsPlan.cpp writes, here or in a compiled executable.
//
//===----------------------------------------------------------------------===//

#include "dlc/Export/WeightsExport.h"

#include "ExportParameters.h"

#include "dlc/Dialect/DLC/IR/DLCDialect.h"
#include "dlc/Dialect/DLC/IR/DLCOps.h"
#include "dlc/Import/Import.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
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
  explicit TorchExporter(func::FuncOp forward) : forward(forward) {}

  LogicalResult run();

  std::vector<::dlc::exporting::PlannedTensor> tensors;
  std::string initLines, forwardLines;

private:
  InFlightDiagnostic error(Operation *op) {
    // At the layer in the model file, without the op's IR.
    return emitError(op->getLoc()) << "PyTorch export: ";
  }
  /// The plan of weight `v` of `user`, in dlc's layout and shape.
  FailureOr<::dlc::exporting::PlannedTensor> weightOf(Value v,
                                                      Operation *user) {
    ::dlc::exporting::PlannedTensor t;
    if (failed(planSource(forward, v, user->getLoc(), "PyTorch export", t)))
      return failure();
    return t;
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
  /// Adds `t` as `key`, transposed by `perm` of its data viewed as `view`
  /// (none when empty) into `shape`.
  void addTensor(const std::string &key, ::dlc::exporting::PlannedTensor t,
                 ArrayRef<int64_t> view = {}, ArrayRef<int64_t> perm = {},
                 ArrayRef<int64_t> shape = {}) {
    t.destination = key;
    if (!perm.empty()) {
      t.viewShape.assign(view.begin(), view.end());
      t.permutation.assign(perm.begin(), perm.end());
      t.shape.assign(shape.begin(), shape.end());
    }
    tensors.push_back(std::move(t));
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
  FailureOr<::dlc::exporting::PlannedTensor> w = weightOf(op.getFilter(), op);
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
  addTensor(name + ".weight", *w, f, kToOIHW, {f[3], f[2], f[0], f[1]});
  if (op.getBias()) {
    FailureOr<::dlc::exporting::PlannedTensor> b = weightOf(op.getBias(), op);
    if (failed(b))
      return failure();
    addTensor(name + ".bias", *b);
  }
  assign(op, "self." + name + "(" + input + ")");
  return success();
}

LogicalResult TorchExporter::exportDense(DenseOp op) {
  FailureOr<std::string> x = use(op.getInput(), op);
  FailureOr<::dlc::exporting::PlannedTensor> k = weightOf(op.getKernel(), op);
  if (failed(x) || failed(k))
    return failure();
  Shape kshape = dimsOf(op.getKernel()); // [K, M]
  int64_t rowsK = kshape[0], m = kshape[1];
  // PyTorch's weight is [M, K]: the kernel transposed.
  Shape view = kshape, perm = {1, 0};
  auto flat = flatOfImage.find(op.getInput());
  if (flat != flatOfImage.end()) {
    // PyTorch's input is flattened in C, H, W order, dlc's kernel rows are
    // in H, W, C order: the kernel viewed as [H, W, C, M] becomes
    // [M, C, H, W].
    view = {flat->second[0], flat->second[1], flat->second[2], m};
    perm = {3, 2, 0, 1};
  }
  std::string name = moduleName(op.getKernel(), op);
  initLines += llvm::formatv("        self.{0} = nn.Linear({1}, {2}, "
                             "bias={3})\n",
                             name, rowsK, m, op.getBias() ? "True" : "False");
  addTensor(name + ".weight", *k, view, perm, {m, rowsK});
  if (op.getBias()) {
    FailureOr<::dlc::exporting::PlannedTensor> b = weightOf(op.getBias(), op);
    if (failed(b))
      return failure();
    addTensor(name + ".bias", *b);
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
  SmallVector<::dlc::exporting::PlannedTensor> data;
  for (Value v :
       {op.getGamma(), op.getBeta(), op.getMean(), op.getVariance()}) {
    FailureOr<::dlc::exporting::PlannedTensor> d = weightOf(v, op);
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
  addTensor(name + ".weight", data[0]);
  addTensor(name + ".bias", data[1]);
  addTensor(name + ".running_mean", data[2]);
  addTensor(name + ".running_var", data[3]);
  ::dlc::exporting::PlannedTensor count;
  count.destination = name + ".num_batches_tracked";
  count.zeroCount = true;
  count.loc = sourceLocation(op.getLoc());
  tensors.push_back(std::move(count));
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
    FailureOr<::dlc::exporting::PlannedTensor> b =
        weightOf(biasAdd.getBias(), op);
    if (failed(x) || failed(b))
      return failure();
    std::string name = moduleName(biasAdd.getBias(), op);
    int64_t c = 1;
    for (int64_t d : b->shape)
      c *= d;
    initLines += llvm::formatv(
        "        self.{0} = nn.Parameter(torch.zeros({1}))\n", name, c);
    b->shape = {c};
    addTensor(name, *b);
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

FailureOr<::dlc::exporting::TorchPlan>
mlir::dlc::planTorch(ModuleOp module, StringRef sourceName) {
  auto forward = module.lookupSymbol<func::FuncOp>(kForwardFuncName);
  if (!forward)
    return emitError(module.getLoc())
           << "PyTorch export: the module has no @forward";
  TorchExporter exporter(forward);
  if (failed(exporter.run()))
    return failure();

  ::dlc::exporting::TorchPlan plan;
  plan.tensors = std::move(exporter.tensors);
  plan.modelName = module.getSymName().value_or("model").str();
  plan.sourceName = sourceName.str();
  Shape inShape = dimsOf(forward.getArgument(0));
  plan.imageInput = inShape.size() == 4;
  plan.inputDoc = plan.imageInput
                      ? llvm::formatv("N x {0} x {1} x {2} (NCHW)", inShape[3],
                                      inShape[1], inShape[2])
                            .str()
                      : "N x " + std::to_string(inShape.back());
  auto values = [&](StringRef key, StringRef none) {
    std::string text = "[";
    if (auto norm =
            module->getAttrOfType<DictionaryAttr>(attrs::kInputNormalization))
      if (auto v = norm.getAs<DenseF32ArrayAttr>(key))
        for (auto [i, x] : llvm::enumerate(v.asArrayRef()))
          text += (i ? ", " : "") + llvm::formatv("{0:e9}", x).str();
    return text == "[" ? none.str() : text + "]";
  };
  plan.inputScale = values("scale", "[1.0]");
  plan.inputOffset = values("offset", "[0.0]");
  plan.initLines = std::move(exporter.initLines);
  plan.forwardLines = std::move(exporter.forwardLines);
  return plan;
}

LogicalResult mlir::dlc::exportTorch(ModuleOp module, const WeightMap &weights,
                                     StringRef directory,
                                     StringRef safetensorsName,
                                     StringRef sourceName) {
  FailureOr<::dlc::exporting::TorchPlan> plan = planTorch(module, sourceName);
  if (failed(plan))
    return failure();
  return reportExportError(module,
                           ::dlc::exporting::writeTorchWeights(
                               *plan, withInitialValues(module, weights),
                               directory, safetensorsName));
}

void mlir::dlc::attachExportPlans(ModuleOp module, StringRef sourceName) {
  MLIRContext *context = module.getContext();
  ::dlc::exporting::PlanOrError<::dlc::exporting::KerasPlan> keras =
      ::dlc::exporting::ExportError{};
  if (auto error = captureFirstError(context, [&] {
        FailureOr<::dlc::exporting::KerasPlan> plan = planKerasWeights(module);
        if (succeeded(plan))
          keras = std::move(*plan);
        return LogicalResult(plan);
      }))
    keras = std::move(*error);
  ::dlc::exporting::PlanOrError<::dlc::exporting::TorchPlan> torch =
      ::dlc::exporting::ExportError{};
  if (auto error = captureFirstError(context, [&] {
        FailureOr<::dlc::exporting::TorchPlan> plan =
            planTorch(module, sourceName);
        if (succeeded(plan))
          torch = std::move(*plan);
        return LogicalResult(plan);
      }))
    torch = std::move(*error);
  auto text = [&](llvm::json::Value value) {
    return StringAttr::get(context, llvm::formatv("{0}", value).str());
  };
  module->setAttr("dlc.export_keras", text(::dlc::exporting::toJson(keras)));
  module->setAttr("dlc.export_torch", text(::dlc::exporting::toJson(torch)));
}
