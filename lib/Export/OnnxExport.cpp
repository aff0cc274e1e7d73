//===- OnnxExport.cpp - @forward to an ONNX inference graph ---------------===//
//
// Walks @forward in order and writes one or a few ONNX nodes per dlc op,
// with the protobuf classes of libonnx-dev. dlc computes images in NHWC with
// HWCF filters; the ONNX graph is NCHW with OIHW weights, what PyTorch
// exports. Every 4-D value is NCHW in the graph; the weights are transposed
// here, on the host. A Flatten of an image is the one op whose element
// order differs (dlc flattens H, W, C; ONNX C, H, W): when only Dense layers
// read it, their weight rows are permuted instead (the inverse of the
// importer's conversion), otherwise the image is transposed back to NHWC
// before the Flatten. Dropout and the augmentation layers are the identity
// at inference and leave no node.
//
//===----------------------------------------------------------------------===//

#include "dlc/Export/OnnxExport.h"
#include "dlc/Export/WeightsPlan.h"

#include "dlc/Dialect/DLC/IR/DLCDialect.h"
#include "dlc/Dialect/DLC/IR/DLCOps.h"
#include "dlc/Import/Import.h"
#include "dlc/Import/Onnx.h"

#include "onnx/onnx_pb.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstring>

using namespace mlir;
using namespace mlir::dlc;

FailureOr<WeightMap> mlir::dlc::readSafetensorsWeights(StringRef path,
                                                       Location loc) {
  auto file = llvm::MemoryBuffer::getFile(path, /*IsText=*/false);
  if (!file)
    return emitError(loc) << "cannot read " << path << ": "
                          << file.getError().message(),
           failure();
  StringRef bytes = (*file)->getBuffer();
  auto bad = [&](const Twine &what) {
    return emitError(loc) << path
                          << " is not a valid safetensors file: " << what,
           failure();
  };
  if (bytes.size() < 8)
    return bad("too short");
  uint64_t headerSize = llvm::support::endian::read64le(bytes.data());
  if (headerSize > bytes.size() - 8)
    return bad("truncated header");
  StringRef data = bytes.drop_front(8 + headerSize);
  llvm::Expected<llvm::json::Value> header =
      llvm::json::parse(bytes.substr(8, headerSize));
  if (!header)
    return bad(llvm::toString(header.takeError()));
  const llvm::json::Object *entries = header->getAsObject();
  if (!entries)
    return bad("the header is not an object");
  WeightMap weights;
  for (const auto &[name, value] : *entries) {
    if (name == "__metadata__")
      continue;
    const llvm::json::Object *entry = value.getAsObject();
    const llvm::json::Array *offsets =
        entry ? entry->getArray("data_offsets") : nullptr;
    std::optional<StringRef> dtype =
        entry ? entry->getString("dtype") : std::nullopt;
    if (!offsets || offsets->size() != 2 || !dtype)
      return bad("entry '" + name.str() + "' is malformed");
    if (*dtype != "F32")
      continue; // Step counters and the like.
    uint64_t begin = (*offsets)[0].getAsUINT64().value_or(~0ull);
    uint64_t end = (*offsets)[1].getAsUINT64().value_or(~0ull);
    if (begin > end || end > data.size() || (end - begin) % 4)
      return bad("entry '" + name.str() + "' has bad offsets");
    std::vector<float> &out = weights[name.str()];
    out.resize((end - begin) / 4);
    std::memcpy(out.data(), data.data() + begin, end - begin);
  }
  return weights;
}

namespace {

using Shape = SmallVector<int64_t, 4>;

Shape dimsOf(Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  return Shape(type.getShape().begin(), type.getShape().end());
}

using ::dlc::exporting::transposed;

Shape permuted(ArrayRef<int64_t> shape, ArrayRef<int64_t> perm) {
  Shape s;
  for (int64_t p : perm)
    s.push_back(shape[p]);
  return s;
}

const int64_t kToNCHW[] = {0, 3, 1, 2}; // of an NHWC tensor
const int64_t kToNHWC[] = {0, 2, 3, 1}; // of an NCHW tensor
const int64_t kToOIHW[] = {3, 2, 0, 1}; // of an HWCF filter

/// The ONNX axis of dlc axis `axis` of a value of rank `rank` (4-D values
/// are NCHW in the graph).
int64_t onnxAxis(int64_t axis, int64_t rank) {
  if (axis < 0)
    axis += rank;
  if (rank != 4)
    return axis;
  static const int64_t map[] = {0, 2, 3, 1};
  return map[axis];
}

class Exporter {
public:
  Exporter(func::FuncOp forward, const WeightMap &weights,
           const OnnxExportOptions &options)
      : forward(forward), weights(weights), options(options) {}

  LogicalResult run(onnx::ModelProto &model);

private:
  InFlightDiagnostic error(Operation *op) {
    return op->emitError() << "ONNX export: ";
  }
  std::string fresh(StringRef base) {
    std::string name = base.str();
    for (int i = 1; !used.insert(name).second; ++i)
      name = (base + "_" + Twine(i)).str();
    return name;
  }
  std::string resultName(Operation *op) {
    std::string base = "t";
    if (auto name = dyn_cast<NameLoc>(op->getLoc()))
      base = name.getName().str();
    return fresh(base);
  }
  onnx::NodeProto *addNode(StringRef type, ArrayRef<std::string> inputs,
                           ArrayRef<std::string> outputs) {
    onnx::NodeProto *node = graph->add_node();
    node->set_op_type(type.str());
    node->set_name(fresh("/" + outputs.front() + "/" + type.str()));
    for (const std::string &in : inputs)
      node->add_input(in);
    for (const std::string &out : outputs)
      node->add_output(out);
    return node;
  }
  static void setInts(onnx::NodeProto *node, StringRef name,
                      ArrayRef<int64_t> values) {
    onnx::AttributeProto *a = node->add_attribute();
    a->set_name(name.str());
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t v : values)
      a->add_ints(v);
  }
  static void setInt(onnx::NodeProto *node, StringRef name, int64_t value) {
    onnx::AttributeProto *a = node->add_attribute();
    a->set_name(name.str());
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(value);
  }
  static void setFloat(onnx::NodeProto *node, StringRef name, float value) {
    onnx::AttributeProto *a = node->add_attribute();
    a->set_name(name.str());
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(value);
  }
  std::string addInitializer(StringRef base, ArrayRef<int64_t> dims,
                             ArrayRef<float> data) {
    std::string name = fresh(base);
    onnx::TensorProto *t = graph->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims)
      t->add_dims(d);
    t->set_raw_data(std::string(reinterpret_cast<const char *>(data.data()),
                                data.size() * sizeof(float)));
    return name;
  }
  std::string addInt64Initializer(StringRef base, ArrayRef<int64_t> values) {
    std::string name = fresh(base);
    onnx::TensorProto *t = graph->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(values.size());
    for (int64_t v : values)
      t->add_int64_data(v);
    return name;
  }

  /// The weight data of a parameter argument or constant, in dlc's layout.
  FailureOr<std::vector<float>> weightOf(Value v, Operation *user);
  /// The weight's name for its initializer.
  std::string weightName(Value v);
  /// The ONNX tensor holding `v` (4-D values NCHW).
  FailureOr<std::string> valueOf(Value v, Operation *user);
  LogicalResult exportOp(Operation *op);
  LogicalResult exportConv(Conv2DOp op);
  LogicalResult exportDense(DenseOp op);
  LogicalResult exportPool(Operation *op, StringRef type, ArrayRef<int64_t> k,
                           ArrayRef<int64_t> strides,
                           ArrayRef<int64_t> resolvedPads);
  LogicalResult exportFlatten(FlattenOp op);
  LogicalResult exportReshape(ReshapeOp op);
  LogicalResult exportBatchNorm(BatchNormOp op);

  func::FuncOp forward;
  const WeightMap &weights;
  const OnnxExportOptions &options;
  onnx::GraphProto *graph = nullptr;
  llvm::StringSet<> used;
  llvm::DenseMap<Value, std::string> names;
  /// Flatten results written as ONNX Flatten of the NCHW image: their [H, W,
  /// C], for the Dense layers that read them.
  llvm::DenseMap<Value, Shape> flatOfImage;
  /// Batch norms folded into the convolution before them.
  llvm::DenseSet<Operation *> folded;
};

} // namespace

std::string Exporter::weightName(Value v) {
  if (auto arg = dyn_cast<BlockArgument>(v))
    if (auto name = forward.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                         attrs::kName))
      return name.str();
  return "const";
}

FailureOr<std::vector<float>> Exporter::weightOf(Value v, Operation *user) {
  int64_t n = 1;
  for (int64_t d : dimsOf(v))
    n *= d;
  if (auto arg = dyn_cast<BlockArgument>(v)) {
    if (arg.getArgNumber() == 0)
      return error(user) << "the model input is used as a weight", failure();
    std::string name = weightName(v);
    auto it = weights.find(name);
    if (it != weights.end()) {
      if (int64_t(it->second.size()) != n)
        return error(user) << "the checkpoint's '" << name << "' has "
                           << it->second.size() << " values, the model " << n,
               failure();
      return it->second;
    }
    if (auto init = forward.getArgAttrOfType<DenseElementsAttr>(
            arg.getArgNumber(), kInitialValueAttr))
      return std::vector<float>(init.getValues<float>().begin(),
                                init.getValues<float>().end());
    return error(user) << "no weights for '" << name << "' (give --checkpoint)",
           failure();
  }
  if (auto cst = v.getDefiningOp<arith::ConstantOp>())
    if (auto dense = dyn_cast<DenseElementsAttr>(cst.getValue());
        dense && dense.getElementType().isF32())
      return std::vector<float>(dense.getValues<float>().begin(),
                                dense.getValues<float>().end());
  return error(user) << "a weight that is computed, not a parameter", failure();
}

FailureOr<std::string> Exporter::valueOf(Value v, Operation *user) {
  auto it = names.find(v);
  if (it != names.end())
    return it->second;
  if (isa<BlockArgument>(v) || v.getDefiningOp<arith::ConstantOp>()) {
    // A parameter used as data (e.g. an Add of a learned tensor).
    FailureOr<std::vector<float>> data = weightOf(v, user);
    if (failed(data))
      return failure();
    Shape dims = dimsOf(v);
    std::string name =
        dims.size() == 4
            ? addInitializer(weightName(v), permuted(dims, kToNCHW),
                             transposed(*data, dims, kToNCHW))
            : addInitializer(weightName(v), dims, *data);
    names[v] = name;
    return name;
  }
  return error(user) << "an operand defined by an op the exporter did not "
                        "write",
         failure();
}

LogicalResult Exporter::exportConv(Conv2DOp op) {
  FailureOr<std::string> x = valueOf(op.getInput(), op);
  FailureOr<std::vector<float>> w = weightOf(op.getFilter(), op);
  if (failed(x) || failed(w))
    return failure();
  Shape fshape = dimsOf(op.getFilter()); // [kh, kw, cin/g, f]
  int64_t f = fshape[3];
  std::vector<float> bias;
  if (op.getBias()) {
    FailureOr<std::vector<float>> b = weightOf(op.getBias(), op);
    if (failed(b))
      return failure();
    bias = *b;
  }
  // Fold a following inference batch norm: w *= s, b = (b - mean) * s +
  // beta with s = gamma / sqrt(variance + epsilon), per filter.
  Operation *bnOp = nullptr;
  if (options.foldBatchNorm && op->hasOneUse())
    if (auto bn = dyn_cast<BatchNormOp>(*op->user_begin());
        bn && bn.getInput() == op.getResult()) {
      FailureOr<std::vector<float>> gamma = weightOf(bn.getGamma(), bn),
                                    beta = weightOf(bn.getBeta(), bn),
                                    mean = weightOf(bn.getMean(), bn),
                                    var = weightOf(bn.getVariance(), bn);
      if (failed(gamma) || failed(beta) || failed(mean) || failed(var))
        return failure();
      if (bias.empty())
        bias.assign(f, 0.0f);
      float eps = bn.getEpsilon().convertToFloat();
      for (int64_t c = 0; c < f; ++c) {
        float s = (*gamma)[c] / std::sqrt((*var)[c] + eps);
        bias[c] = (bias[c] - (*mean)[c]) * s + (*beta)[c];
        for (size_t k = c; k < w->size(); k += f)
          (*w)[k] *= s;
      }
      bnOp = bn;
    }
  std::string wName =
      addInitializer(weightName(op.getFilter()), permuted(fshape, kToOIHW),
                     transposed(*w, fshape, kToOIHW));
  SmallVector<std::string> inputs = {*x, wName};
  if (!bias.empty())
    inputs.push_back(addInitializer(op.getBias() ? weightName(op.getBias())
                                                 : weightName(op.getFilter()) +
                                                       "/folded_bias",
                                    {f}, bias));
  std::string out = resultName(op);
  onnx::NodeProto *node = addNode("Conv", inputs, {out});
  SmallVector<int64_t, 4> p = op.getResolvedPads(); // [t, b, l, r]
  setInts(node, "kernel_shape", {fshape[0], fshape[1]});
  setInts(node, "strides", op.getStrides());
  setInts(node, "dilations", op.getDilations());
  setInts(node, "pads", {p[0], p[2], p[1], p[3]});
  setInt(node, "group", op.getGroups());
  names[op.getResult()] = out;
  if (bnOp) {
    names[bnOp->getResult(0)] = out;
    folded.insert(bnOp);
  }
  return success();
}

LogicalResult Exporter::exportDense(DenseOp op) {
  FailureOr<std::string> x = valueOf(op.getInput(), op);
  FailureOr<std::vector<float>> k = weightOf(op.getKernel(), op);
  if (failed(x) || failed(k))
    return failure();
  Shape kshape = dimsOf(op.getKernel()); // [K, M]
  auto flat = flatOfImage.find(op.getInput());
  if (flat != flatOfImage.end()) {
    // The ONNX input is flattened in C, H, W order; dlc's kernel rows are
    // in H, W, C order.
    int64_t h = flat->second[0], w = flat->second[1], c = flat->second[2];
    int64_t m = kshape[1];
    std::vector<float> rows(k->size());
    for (int64_t ih = 0; ih < h; ++ih)
      for (int64_t iw = 0; iw < w; ++iw)
        for (int64_t ic = 0; ic < c; ++ic) {
          int64_t dlcRow = (ih * w + iw) * c + ic;
          int64_t onnxRow = (ic * h + ih) * w + iw;
          std::memcpy(&rows[onnxRow * m], &(*k)[dlcRow * m], m * sizeof(float));
        }
    *k = std::move(rows);
  }
  SmallVector<std::string> inputs = {
      *x, addInitializer(weightName(op.getKernel()), kshape, *k)};
  if (op.getBias()) {
    FailureOr<std::vector<float>> b = weightOf(op.getBias(), op);
    if (failed(b))
      return failure();
    inputs.push_back(
        addInitializer(weightName(op.getBias()), dimsOf(op.getBias()), *b));
  }
  std::string out = resultName(op);
  addNode("Gemm", inputs, {out});
  names[op.getResult()] = out;
  return success();
}

LogicalResult Exporter::exportPool(Operation *op, StringRef type,
                                   ArrayRef<int64_t> k,
                                   ArrayRef<int64_t> strides,
                                   ArrayRef<int64_t> p) {
  FailureOr<std::string> x = valueOf(op->getOperand(0), op);
  if (failed(x))
    return failure();
  std::string out = resultName(op);
  onnx::NodeProto *node = addNode(type, {*x}, {out});
  setInts(node, "kernel_shape", k);
  setInts(node, "strides", strides);
  setInts(node, "pads", {p[0], p[2], p[1], p[3]});
  if (type == "AveragePool")
    setInt(node, "count_include_pad", 0);
  names[op->getResult(0)] = out;
  return success();
}

LogicalResult Exporter::exportFlatten(FlattenOp op) {
  FailureOr<std::string> x = valueOf(op.getInput(), op);
  if (failed(x))
    return failure();
  Shape in = dimsOf(op.getInput());
  std::string out = resultName(op);
  if (in.size() != 4) {
    setInt(addNode("Flatten", {*x}, {out}), "axis", 1);
    names[op.getResult()] = out;
    return success();
  }
  bool onlyDense = llvm::all_of(op->getUsers(), [&](Operation *user) {
    auto dense = dyn_cast<DenseOp>(user);
    return dense && dense.getInput() == op.getResult();
  });
  std::string src = *x;
  if (onlyDense) {
    flatOfImage[op.getResult()] = {in[1], in[2], in[3]};
  } else {
    src = fresh(out + "_nhwc");
    setInts(addNode("Transpose", {*x}, {src}), "perm", kToNHWC);
  }
  setInt(addNode("Flatten", {src}, {out}), "axis", 1);
  names[op.getResult()] = out;
  return success();
}

LogicalResult Exporter::exportReshape(ReshapeOp op) {
  FailureOr<std::string> x = valueOf(op.getInput(), op);
  if (failed(x))
    return failure();
  Shape in = dimsOf(op.getInput()), target = dimsOf(op.getResult());
  std::string src = *x;
  if (in.size() == 4) {
    src = fresh(*x + "_nhwc");
    setInts(addNode("Transpose", {*x}, {src}), "perm", kToNHWC);
  }
  // Keep the batch dynamic: 0 copies the input's first dimension.
  Shape shape = target;
  if (!options.staticBatch && shape[0] == in[0])
    shape[0] = 0;
  std::string out = resultName(op);
  std::string reshaped = target.size() == 4 ? fresh(out + "_nhwc") : out;
  addNode("Reshape", {src, addInt64Initializer(out + "_shape", shape)},
          {reshaped});
  if (target.size() == 4)
    setInts(addNode("Transpose", {reshaped}, {out}), "perm", kToNCHW);
  names[op.getResult()] = out;
  return success();
}

LogicalResult Exporter::exportBatchNorm(BatchNormOp op) {
  FailureOr<std::string> x = valueOf(op.getInput(), op);
  if (failed(x))
    return failure();
  SmallVector<std::string> inputs = {*x};
  for (Value v :
       {op.getGamma(), op.getBeta(), op.getMean(), op.getVariance()}) {
    FailureOr<std::vector<float>> data = weightOf(v, op);
    if (failed(data))
      return failure();
    inputs.push_back(addInitializer(weightName(v), dimsOf(v), *data));
  }
  std::string out = resultName(op);
  onnx::NodeProto *node = addNode("BatchNormalization", inputs, {out});
  setFloat(node, "epsilon", op.getEpsilon().convertToFloat());
  // ONNX's momentum convention is Keras's (unused at inference).
  setFloat(node, "momentum", op.getMomentum().convertToFloat());
  names[op.getResult()] = out;
  return success();
}

LogicalResult Exporter::exportOp(Operation *op) {
  if (folded.contains(op) || isa<arith::ConstantOp>(op))
    return success();
  // Identity at inference: Dropout, RandomFlip, RandomTranslation.
  if (isa<DropoutOp, RandomFlipOp, RandomTranslationOp>(op)) {
    FailureOr<std::string> x = valueOf(op->getOperand(0), op);
    if (failed(x))
      return failure();
    names[op->getResult(0)] = *x;
    if (flatOfImage.count(op->getOperand(0)))
      return error(op) << "a Dropout between a Flatten and a Dense layer is "
                          "not supported",
             failure();
    return success();
  }
  if (auto conv = dyn_cast<Conv2DOp>(op))
    return exportConv(conv);
  if (auto dense = dyn_cast<DenseOp>(op))
    return exportDense(dense);
  if (auto pool = dyn_cast<MaxPool2DOp>(op))
    return exportPool(op, "MaxPool", pool.getPoolSize(), pool.getStrides(),
                      pool.getResolvedPads());
  if (auto pool = dyn_cast<AvgPool2DOp>(op))
    return exportPool(op, "AveragePool", pool.getPoolSize(), pool.getStrides(),
                      pool.getResolvedPads());
  if (auto flatten = dyn_cast<FlattenOp>(op))
    return exportFlatten(flatten);
  if (auto reshape = dyn_cast<ReshapeOp>(op))
    return exportReshape(reshape);
  if (auto bn = dyn_cast<BatchNormOp>(op))
    return exportBatchNorm(bn);
  for (Value operand : op->getOperands())
    if (flatOfImage.count(operand))
      return error(op) << "internal: a permuted Flatten read by "
                       << op->getName(),
             failure();
  auto unary = [&](StringRef type) -> onnx::NodeProto * {
    FailureOr<std::string> x = valueOf(op->getOperand(0), op);
    if (failed(x))
      return nullptr;
    std::string out = resultName(op);
    names[op->getResult(0)] = out;
    return addNode(type, {*x}, {out});
  };
  if (isa<ReluOp>(op))
    return success(unary("Relu") != nullptr);
  if (isa<SigmoidOp>(op))
    return success(unary("Sigmoid") != nullptr);
  if (isa<TanhOp>(op))
    return success(unary("Tanh") != nullptr);
  if (auto leaky = dyn_cast<LeakyReluOp>(op)) {
    onnx::NodeProto *node = unary("LeakyRelu");
    if (node)
      setFloat(node, "alpha", leaky.getAlpha().convertToFloat());
    return success(node != nullptr);
  }
  if (auto softmax = dyn_cast<SoftmaxOp>(op)) {
    onnx::NodeProto *node = unary("Softmax");
    if (node)
      setInt(node, "axis",
             onnxAxis(softmax.getAxis(), dimsOf(softmax.getInput()).size()));
    return success(node != nullptr);
  }
  if (auto gap = dyn_cast<GlobalAvgPoolOp>(op)) {
    FailureOr<std::string> x = valueOf(gap.getInput(), op);
    if (failed(x))
      return failure();
    std::string out = resultName(op), pooled = fresh(out + "_nc11");
    addNode("GlobalAveragePool", {*x}, {pooled});
    setInt(addNode("Flatten", {pooled}, {out}), "axis", 1);
    names[gap.getResult()] = out;
    return success();
  }
  if (auto add = dyn_cast<AddOp>(op)) {
    FailureOr<std::string> a = valueOf(add.getLhs(), op),
                           b = valueOf(add.getRhs(), op);
    if (failed(a) || failed(b))
      return failure();
    std::string out = resultName(op);
    addNode("Add", {*a, *b}, {out});
    names[add.getResult()] = out;
    return success();
  }
  if (auto biasAdd = dyn_cast<BiasAddOp>(op)) {
    FailureOr<std::string> x = valueOf(biasAdd.getInput(), op);
    FailureOr<std::vector<float>> b = weightOf(biasAdd.getBias(), op);
    if (failed(x) || failed(b))
      return failure();
    int64_t rank = dimsOf(biasAdd.getInput()).size();
    int64_t c = b->size();
    // Broadcast along ONNX's channel axis (1 for images).
    Shape dims = rank == 4 ? Shape{c, 1, 1} : Shape{c};
    std::string out = resultName(op);
    addNode("Add",
            {*x, addInitializer(weightName(biasAdd.getBias()), dims, *b)},
            {out});
    names[biasAdd.getResult()] = out;
    return success();
  }
  if (auto concat = dyn_cast<ConcatOp>(op)) {
    SmallVector<std::string> inputs;
    for (Value v : concat.getInputs()) {
      FailureOr<std::string> x = valueOf(v, op);
      if (failed(x))
        return failure();
      inputs.push_back(*x);
    }
    std::string out = resultName(op);
    setInt(addNode("Concat", inputs, {out}), "axis",
           onnxAxis(concat.getAxis(), dimsOf(concat.getResult()).size()));
    names[concat.getResult()] = out;
    return success();
  }
  if (isa<func::ReturnOp>(op))
    return success();
  return error(op) << "'" << op->getName()
                   << "' has no ONNX export (inference graph)",
         failure();
}

LogicalResult Exporter::run(onnx::ModelProto &model) {
  model.set_ir_version(8);
  model.set_producer_name("dlc");
  model.add_opset_import()->set_version(17);
  graph = model.mutable_graph();
  auto moduleOp = forward->getParentOfType<ModuleOp>();
  graph->set_name(moduleOp.getSymName() ? moduleOp.getSymName()->str()
                                        : std::string("dlc"));
  if (forward.getNumArguments() == 0 || forward.getNumResults() != 1)
    return forward.emitError()
           << "ONNX export: @forward must take the input and return one value";
  Value input = forward.getArgument(0);
  Shape inShape = dimsOf(input);
  std::string inputName = "input";
  used.insert(inputName);
  names[input] = inputName;
  auto addValueInfo = [&](onnx::ValueInfoProto *info, StringRef name,
                          ArrayRef<int64_t> shape) {
    info->set_name(name.str());
    onnx::TypeProto::Tensor *t = info->mutable_type()->mutable_tensor_type();
    t->set_elem_type(onnx::TensorProto::FLOAT);
    for (auto [i, d] : llvm::enumerate(shape)) {
      onnx::TensorShapeProto::Dimension *dim = t->mutable_shape()->add_dim();
      if (i == 0 && !options.staticBatch)
        dim->set_dim_param("batch");
      else
        dim->set_dim_value(d);
    }
  };
  addValueInfo(graph->add_input(), inputName,
               inShape.size() == 4 ? permuted(inShape, kToNCHW) : inShape);

  for (Operation &op : forward.getBody().front())
    if (failed(exportOp(&op)))
      return failure();

  auto ret = cast<func::ReturnOp>(forward.getBody().front().getTerminator());
  Value result = ret.getOperand(0);
  FailureOr<std::string> out = valueOf(result, ret);
  if (failed(out))
    return failure();
  if (flatOfImage.count(result))
    return error(ret) << "the model output is a Flatten of an image", failure();
  // The graph output gets a stable name.
  std::string outputName = "output";
  if (!used.insert(outputName).second)
    outputName = fresh(outputName);
  addNode("Identity", {*out}, {outputName});
  Shape outShape = dimsOf(result);
  addValueInfo(graph->add_output(), outputName,
               outShape.size() == 4 ? permuted(outShape, kToNCHW) : outShape);

  // What the runtime does to raw data before @forward, for users feeding
  // the ONNX model themselves.
  if (auto norm =
          moduleOp->getAttrOfType<DictionaryAttr>(attrs::kInputNormalization)) {
    for (StringRef key : {"scale", "offset"}) {
      auto values = norm.getAs<DenseF32ArrayAttr>(key);
      if (!values)
        continue;
      std::string text;
      for (auto [i, v] : llvm::enumerate(values.asArrayRef()))
        text += (i ? "," : "") + llvm::formatv("{0}", v).str();
      onnx::StringStringEntryProto *entry = model.add_metadata_props();
      entry->set_key(("dlc.input_" + key).str());
      entry->set_value(text);
    }
  }
  graph->set_doc_string(
      "Exported by dlc: the inference graph (NCHW). Its input is the "
      "normalized image, input = raw * dlc.input_scale + dlc.input_offset "
      "(see metadata_props).");
  return success();
}

LogicalResult mlir::dlc::exportOnnx(ModuleOp module, const WeightMap &weights,
                                    const OnnxExportOptions &options,
                                    llvm::raw_ostream &os) {
  auto forward = module.lookupSymbol<func::FuncOp>(kForwardFuncName);
  if (!forward)
    return module.emitError() << "ONNX export: the module has no @forward";
  onnx::ModelProto model;
  Exporter exporter(forward, weights, options);
  if (failed(exporter.run(model)))
    return failure();
  std::string bytes;
  if (!model.SerializeToString(&bytes))
    return module.emitError() << "ONNX export: the model does not serialize "
                                 "(over 2 GB?)";
  os << bytes;
  return success();
}
