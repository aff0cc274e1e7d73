//===- ReadOnnx.cpp - ONNX ModelProto to func.func @forward in dlc --------===//
//
// Reads a ModelProto with libonnx-dev's generated protobuf classes and
// emits @forward node by node, in graph order (ONNX graphs are
// topologically sorted). Constants stay on the host until an op needs them
// as an operand: a Conv weight becomes a parameter argument transposed to
// HWCF, a shape subgraph folds to the integers a Reshape needs. Every
// computed value carries a Layout that says how its dlc buffer orders the
// ONNX tensor's elements (NCHW images are NHWC in dlc), so that layouts are
// converted only where an op needs it, on constants, at import.
//
// Every node the importer cannot map exactly is an error naming the node:
// "node 3 ('/conv1/Conv', Conv): ...". Nothing here asserts on input.
//
//===----------------------------------------------------------------------===//

#include "dlc/Import/Onnx.h"

#include "Document.h"
#include "ModelSpec.h"
#include "OnnxTensor.h"

#include "dlc/Dialect/DLC/IR/DLCDialect.h"
#include "dlc/Dialect/DLC/IR/DLCOps.h"
#include "dlc/Import/Import.h"

#include "onnx/onnx_pb.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/CheckedArithmetic.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"

#include <cmath>

using namespace mlir;
using namespace mlir::dlc;
using namespace mlir::dlc::onnximport;

bool mlir::dlc::isOnnxModel(StringRef filename, StringRef buffer) {
  if (filename.ends_with_insensitive(".onnx"))
    return true;
  // A ModelProto starts with ir_version (field 1, varint: tag 0x08); no
  // text model starts with a backspace.
  return !buffer.empty() && buffer[0] == 0x08;
}

namespace {
/// NCHW -> NHWC and OIHW -> HWIO (dlc's HWCF).
const int64_t kNHWC[] = {0, 2, 3, 1};
const int64_t kHWCF[] = {2, 3, 1, 0};

/// One ONNX tensor during import.
struct Val {
  /// The ONNX shape.
  Shape shape;
  int32_t elemType = onnx::TensorProto::FLOAT;
  /// The dlc value (null for constants not yet materialized).
  Value value;
  Layout layout;
  /// Host data of constants (initializers, Constant nodes, folded values).
  std::optional<HostTensor> constant;
  /// Initializers become parameters; other constants arith.constant.
  bool isInitializer = false;
  std::string name;
};

/// The attributes of one node, with a record of the ones read so that the
/// others are reported as unsupported.
class NodeAttrs : public FoldAttrs {
public:
  explicit NodeAttrs(const onnx::NodeProto &node) {
    for (const onnx::AttributeProto &a : node.attribute())
      byName[a.name()] = &a;
  }
  const onnx::AttributeProto *get(StringRef name) {
    auto it = byName.find(name);
    if (it == byName.end())
      return nullptr;
    used.insert(name);
    return it->second;
  }
  std::optional<int64_t> getInt(StringRef name) override {
    const onnx::AttributeProto *a = get(name);
    if (!a)
      return std::nullopt;
    return a->i();
  }
  std::optional<SmallVector<int64_t>> getInts(StringRef name) override {
    const onnx::AttributeProto *a = get(name);
    if (!a)
      return std::nullopt;
    return SmallVector<int64_t>(a->ints().begin(), a->ints().end());
  }
  std::optional<float> getFloat(StringRef name) {
    const onnx::AttributeProto *a = get(name);
    if (!a)
      return std::nullopt;
    return a->f();
  }
  std::optional<std::string> getString(StringRef name) {
    const onnx::AttributeProto *a = get(name);
    if (!a)
      return std::nullopt;
    return a->s();
  }
  /// The first attribute nobody read, or "".
  std::string firstUnused() const {
    for (auto &entry : byName)
      if (!used.contains(entry.getKey()))
        return entry.getKey().str();
    return "";
  }

private:
  llvm::StringMap<const onnx::AttributeProto *> byName;
  llvm::StringSet<> used;
};

class OnnxImporter {
public:
  OnnxImporter(MLIRContext *ctx, StringRef filename,
               const OnnxImportOptions &options)
      : ctx(ctx), builder(ctx), filename(filename), options(options),
        fileLoc(FileLineColLoc::get(ctx, filename, 0, 0)) {}

  OwningOpRef<ModuleOp> run(const onnx::ModelProto &model,
                            OnnxSignature *signature);

private:
  // Diagnostics.
  InFlightDiagnostic emitError() { return mlir::emitError(loc); }
  InFlightDiagnostic nodeError() {
    InFlightDiagnostic d = mlir::emitError(loc);
    d << "node " << nodeIndex << " ('" << node->name() << "', "
      << node->op_type() << "): ";
    return d;
  }
  LogicalResult unsupported(const Twine &what) {
    return nodeError() << what << " is not supported by dlc", failure();
  }

  // Graph set-up.
  LogicalResult readInitializers(const onnx::GraphProto &graph);
  LogicalResult readInputs(const onnx::GraphProto &graph);
  SmallVector<int64_t, 4> inputLayoutFor(StringRef name, size_t rank);
  LogicalResult importNode(const onnx::NodeProto &n);
  LogicalResult readTrainingSettings(ModuleOp module, Value output,
                                     int64_t batch);

  /// Whether a node or the graph output reads the tensor `name`.
  bool isUsed(StringRef name) const {
    if (name.empty())
      return false;
    for (const onnx::NodeProto &n : graph->node())
      for (const std::string &in : n.input())
        if (in == name)
          return true;
    for (const onnx::ValueInfoProto &out : graph->output())
      if (out.name() == name)
        return true;
    return false;
  }

  // Operands.
  FailureOr<Val *> operand(unsigned i);
  bool hasOperand(unsigned i) const {
    return int(i) < node->input_size() && !node->input(i).empty();
  }
  /// The value of `v` as a dlc tensor of shape `permute(v.shape, perm)`
  /// holding `transpose(onnx, perm)`; constants become parameters (or
  /// arith.constant). `role` names the parameter for messages and the
  /// default initializer.
  FailureOr<Value> inLayout(Val &v, ArrayRef<int64_t> perm,
                            StringRef role = "");
  FailureOr<Value> materialize(Val &v, std::vector<float> data, Shape shape,
                               StringRef role);
  Value addParameter(const Val &v, std::vector<float> data, Shape shape,
                     StringRef role);
  /// `v` in its own order reshaped to `shape` (no data movement).
  FailureOr<Value> reshaped(Value v, ArrayRef<int64_t> shape);
  /// Creates a dlc op through its shape rule (errors name the node).
  FailureOr<Value> create(StringRef opName, ValueRange operands,
                          ArrayRef<NamedAttribute> attrs = {},
                          unsigned result = 0, Operation **created = nullptr);
  Val &define(unsigned output);
  void defineOutput(unsigned output, Value v, Shape shape, Layout layout);
  /// Defines output `output` as an image computed in NHWC from a dlc value
  /// of shape [N, H, W, C].
  void defineImage(unsigned output, Value v);

  // Ops.
  LogicalResult importConv(NodeAttrs &a);
  LogicalResult importPool(NodeAttrs &a, bool isMax);
  LogicalResult importGlobalAveragePool(NodeAttrs &a);
  LogicalResult importBatchNorm(NodeAttrs &a);
  LogicalResult importUnary(NodeAttrs &a, StringRef opName);
  LogicalResult importSoftmax(NodeAttrs &a);
  LogicalResult importGemm(NodeAttrs &a, bool isMatMul);
  LogicalResult importAdd(NodeAttrs &a);
  LogicalResult importConcat(NodeAttrs &a);
  LogicalResult importReshape(NodeAttrs &a, bool isFlatten);
  LogicalResult importDropout(NodeAttrs &a);
  LogicalResult importSoftmaxCrossEntropy(NodeAttrs &a);
  LogicalResult importConstant(NodeAttrs &a);
  LogicalResult importShape(NodeAttrs &a);
  /// The input (an image) as NHWC, or an error. With `is1d`, a 1-D image
  /// [N, C, L] is accepted too, as [N, 1, L, C], and `*is1d` set.
  FailureOr<Value> imageOperand(unsigned i, bool *is1d = nullptr);
  /// Defines output 0 from the dlc image [N, 1, L, C] of a 1-D op.
  void defineImage1d(Value v);
  /// The kernel [K, M] of a Gemm or MatMul reading `a` (its dlc columns in
  /// `sigma` order when `a` is a permuted flat tensor).
  FailureOr<Value> denseKernel(Val &b, bool transB, double alpha,
                               ArrayRef<int64_t> sigma, int64_t k);

  MLIRContext *ctx;
  OpBuilder builder;
  std::string filename;
  const OnnxImportOptions &options;
  Location fileLoc;
  Location loc = fileLoc;
  Block *body = nullptr;
  llvm::StringMap<Val> vals;
  SmallVector<DictionaryAttr> argAttrs;
  SmallVector<OnnxLayout> argLayouts;
  const onnx::GraphProto *graph = nullptr;
  const onnx::NodeProto *node = nullptr;
  int nodeIndex = -1;
  int64_t opset = 1;
  int64_t batchSize = 0;
  int64_t nextStream = 1;
  /// The fan-in of the last kernel made, for its bias's default bounds.
  int64_t lastFanIn = 0;
  /// Parameters already made from an initializer, by (name, layout).
  std::map<std::pair<std::string, std::string>, Value> params;
};
} // namespace

//===----------------------------------------------------------------------===//
// Operands and results
//===----------------------------------------------------------------------===//

static std::string shapeStr(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (auto [i, d] : llvm::enumerate(shape))
    s += (i ? ", " : "") + std::to_string(d);
  return s + "]";
}

static Shape dimsOf(Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  return Shape(type.getShape().begin(), type.getShape().end());
}

static Shape permute(ArrayRef<int64_t> shape, ArrayRef<int64_t> perm) {
  Shape s;
  for (int64_t p : perm)
    s.push_back(shape[p]);
  return s;
}

FailureOr<Val *> OnnxImporter::operand(unsigned i) {
  if (!hasOperand(i))
    return nodeError() << "input " << i << " is missing", failure();
  auto it = vals.find(node->input(i));
  if (it == vals.end())
    return nodeError() << "input '" << node->input(i)
                       << "' is not defined before the node",
           failure();
  Val &v = it->second;
  if (!v.value && !v.constant)
    return unsupported("input '" + v.name + "' of element type " +
                       onnx::TensorProto::DataType_Name(
                           onnx::TensorProto::DataType(v.elemType)) +
                       " (dlc computes in float32)");
  return &v;
}

Val &OnnxImporter::define(unsigned output) {
  Val &v = vals[node->output(output)];
  v = Val();
  v.name = node->output(output);
  return v;
}

void OnnxImporter::defineOutput(unsigned output, Value value, Shape shape,
                                Layout layout) {
  Val &v = define(output);
  v.value = value;
  v.shape = std::move(shape);
  v.layout = std::move(layout);
}

void OnnxImporter::defineImage(unsigned output, Value value) {
  Shape nhwc = dimsOf(value);
  Shape nchw = {nhwc[0], nhwc[3], nhwc[1], nhwc[2]};
  Layout l;
  l.base = nchw;
  l.perm.assign(std::begin(kNHWC), std::end(kNHWC));
  defineOutput(0, value, nchw, l);
}

void OnnxImporter::defineImage1d(Value value) {
  Shape nhwc = dimsOf(value);
  Shape ncl = {nhwc[0], nhwc[3], nhwc[2]};
  Layout l;
  l.base = ncl;
  l.perm = {0, 2, 1};
  defineOutput(0, value, ncl, l);
}

FailureOr<Value> OnnxImporter::create(StringRef opName, ValueRange operands,
                                      ArrayRef<NamedAttribute> attrs,
                                      unsigned result, Operation **created) {
  OperationState state(loc, opName);
  state.addOperands(operands);
  state.addAttributes(attrs);
  std::string message;
  FailureOr<Operation *> op;
  {
    ScopedDiagnosticHandler capture(ctx, [&](Diagnostic &d) {
      if (d.getSeverity() != DiagnosticSeverity::Error)
        return failure();
      if (message.empty())
        message = d.str();
      return success();
    });
    op = createWithInferredTypes(builder, state);
  }
  if (failed(op)) {
    StringRef text = message;
    if (size_t pos = text.find("' op "); pos != StringRef::npos)
      text = text.drop_front(pos + 5);
    return nodeError() << (text.empty() ? "invalid operands" : text), failure();
  }
  if (created)
    *created = *op;
  return (*op)->getResult(result);
}

FailureOr<Value> OnnxImporter::reshaped(Value v, ArrayRef<int64_t> shape) {
  if (dimsOf(v) == Shape(shape.begin(), shape.end()))
    return v;
  return create(
      ReshapeOp::getOperationName(), v,
      {builder.getNamedAttr("shape", builder.getDenseI64ArrayAttr(shape))});
}

/// PyTorch's default initializers, so that --reinitialize starts a model
/// the way PyTorch would: kaiming_uniform(a=sqrt(5)) for weights, which is
/// variance_scaling(1/3, fan_in, uniform), and U(+-1/sqrt(fan_in)) for
/// biases (dlc: random_uniform with those bounds).
static std::pair<StringRef, DictionaryAttr>
defaultInit(Builder &b, StringRef role, int64_t fanIn) {
  MLIRContext *ctx = b.getContext();
  if (role == "kernel" || role == "weight")
    return {"variance_scaling",
            b.getDictionaryAttr(
                {b.getNamedAttr("scale", b.getF32FloatAttr(1.0f / 3.0f)),
                 b.getNamedAttr("mode", b.getStringAttr("fan_in")),
                 b.getNamedAttr("distribution", b.getStringAttr("uniform"))})};
  if (role == "bias" && fanIn > 0) {
    float bound = 1.0f / std::sqrt(float(fanIn));
    return {"random_uniform",
            b.getDictionaryAttr(
                {b.getNamedAttr("minval", b.getF32FloatAttr(-bound)),
                 b.getNamedAttr("maxval", b.getF32FloatAttr(bound))})};
  }
  if (role == "gamma" || role == "moving_variance")
    return {"ones", DictionaryAttr::get(ctx)};
  return {"zeros", DictionaryAttr::get(ctx)};
}

Value OnnxImporter::addParameter(const Val &v, std::vector<float> data,
                                 Shape shape, StringRef role) {
  auto type = RankedTensorType::get(shape, builder.getF32Type());
  Value param = body->addArgument(
      type, NameLoc::get(builder.getStringAttr(v.name), fileLoc));
  // Fan-in for the bias bound: the kernel's, recorded when it was made.
  auto [init, config] = defaultInit(builder, role, lastFanIn);
  if (role == "kernel" && shape.size() >= 2)
    lastFanIn = numElements(ArrayRef<int64_t>(shape).drop_back());
  bool trainable = role != "moving_mean" && role != "moving_variance";
  SmallVector<NamedAttribute> attrs = {
      builder.getNamedAttr(attrs::kName, builder.getStringAttr(v.name)),
      builder.getNamedAttr(attrs::kInit, builder.getStringAttr(init)),
      builder.getNamedAttr(attrs::kTrainable, builder.getBoolAttr(trainable)),
      builder.getNamedAttr(
          kInitialValueAttr,
          DenseElementsAttr::get(type, ArrayRef<float>(data)))};
  if (config && !config.empty())
    attrs.push_back(builder.getNamedAttr(attrs::kInitConfig, config));
  argAttrs.push_back(builder.getDictionaryAttr(attrs));
  OnnxLayout layout;
  layout.name = v.name;
  layout.onnxShape = v.shape;
  argLayouts.push_back(layout);
  return param;
}

FailureOr<Value> OnnxImporter::materialize(Val &v, std::vector<float> data,
                                           Shape shape, StringRef role) {
  if (numElements(shape) > (int64_t(1) << 31))
    return nodeError() << "'" << v.name << "' is too large", failure();
  if (v.isInitializer && !options.functionMode)
    return addParameter(v, std::move(data), shape, role);
  auto type = RankedTensorType::get(shape, builder.getF32Type());
  return arith::ConstantOp::create(
             builder, loc, DenseElementsAttr::get(type, ArrayRef<float>(data)))
      .getResult();
}

FailureOr<Value> OnnxImporter::inLayout(Val &v, ArrayRef<int64_t> perm,
                                        StringRef role) {
  if (perm.size() != v.shape.size())
    return nodeError() << "'" << v.name << "' has shape " << shapeStr(v.shape)
                       << ", expected rank " << perm.size(),
           failure();
  if (v.elemType != onnx::TensorProto::FLOAT &&
      v.elemType != onnx::TensorProto::DOUBLE)
    return unsupported("input '" + v.name + "' of type " +
                       onnx::TensorProto::DataType_Name(
                           onnx::TensorProto::DataType(v.elemType)));
  Shape target = permute(v.shape, perm);
  if (v.constant) {
    std::string key;
    for (int64_t p : perm)
      key += std::to_string(p) + ",";
    auto cached = params.find({v.name, key});
    if (v.isInitializer && cached != params.end())
      return cached->second;
    FailureOr<Value> made =
        materialize(v, permuteData(*v.constant, v.shape, perm), target, role);
    if (succeeded(made) && v.isInitializer)
      params[{v.name, key}] = *made;
    return made;
  }
  Layout wanted;
  wanted.base = v.shape;
  wanted.perm.assign(perm.begin(), perm.end());
  if (!v.layout.sameOrder(wanted))
    return nodeError() << "input '" << v.name
                       << "' would need a transpose from dlc's layout (dlc "
                          "computes images in NHWC; an ONNX graph that "
                          "mixes layouts this way is not supported)",
           failure();
  return reshaped(v.value, target);
}

FailureOr<Value> OnnxImporter::imageOperand(unsigned i, bool *is1d) {
  FailureOr<Val *> x = operand(i);
  if (failed(x))
    return failure();
  if (is1d && (*x)->shape.size() == 3) {
    // A 1-D image [N, C, L] is the 2-D image [N, 1, L, C] in dlc.
    *is1d = true;
    FailureOr<Value> v = inLayout(**x, {0, 2, 1});
    if (failed(v))
      return failure();
    const Shape &s = (*x)->shape;
    return reshaped(*v, {s[0], 1, s[2], s[1]});
  }
  if ((*x)->shape.size() != 4)
    return unsupported("input '" + (*x)->name + "' of shape " +
                       shapeStr((*x)->shape) +
                       " (dlc supports 2-D images: [N, C, H, W])");
  return inLayout(**x, kNHWC);
}

//===----------------------------------------------------------------------===//
// Graph inputs and initializers
//===----------------------------------------------------------------------===//

LogicalResult OnnxImporter::readInitializers(const onnx::GraphProto &graph) {
  for (const onnx::TensorProto &t : graph.initializer()) {
    Val v;
    v.name = t.name();
    v.isInitializer = true;
    HostTensor host;
    std::string err = readTensorProto(t, host);
    if (!err.empty())
      return emitError() << "initializer '" << t.name() << "': " << err,
             failure();
    v.shape = host.shape;
    v.elemType =
        host.isInt ? onnx::TensorProto::INT64 : onnx::TensorProto::FLOAT;
    v.constant = std::move(host);
    vals[v.name] = std::move(v);
  }
  for (const onnx::SparseTensorProto &t : graph.sparse_initializer())
    return emitError() << "sparse initializer '" << t.values().name()
                       << "' is not supported by dlc",
           failure();
  return success();
}

/// How a graph input is laid out in function mode: as its first consumer
/// needs it (a Conv weight in HWCF, a transposed Gemm operand transposed),
/// else images in NHWC and everything else as is.
SmallVector<int64_t, 4> OnnxImporter::inputLayoutFor(StringRef name,
                                                     size_t rank) {
  SmallVector<int64_t, 4> identity;
  for (size_t i = 0; i < rank; ++i)
    identity.push_back(i);
  for (const onnx::NodeProto &n : graph->node()) {
    for (int i = 0; i < n.input_size(); ++i) {
      if (n.input(i) != name)
        continue;
      auto attrInt = [&](StringRef key) -> int64_t {
        for (const onnx::AttributeProto &a : n.attribute())
          if (a.name() == key)
            return a.i();
        return 0;
      };
      StringRef op = n.op_type();
      bool spatial = op == "Conv" || op == "MaxPool" || op == "AveragePool" ||
                     op == "BatchNormalization";
      if (op == "Conv" && i == 1)
        return rank == 4
                   ? SmallVector<int64_t, 4>(std::begin(kHWCF), std::end(kHWCF))
               : rank == 3 ? SmallVector<int64_t, 4>{2, 1, 0}
                           : identity;
      if (op == "Gemm" && rank == 2 &&
          ((i == 0 && attrInt("transA")) || (i == 1 && attrInt("transB"))))
        return {1, 0};
      if (rank == 3 && spatial && i == 0)
        return {0, 2, 1};
      if (rank == 4)
        return SmallVector<int64_t, 4>(std::begin(kNHWC), std::end(kNHWC));
      return identity;
    }
  }
  if (rank == 4)
    return SmallVector<int64_t, 4>(std::begin(kNHWC), std::end(kNHWC));
  return identity;
}

LogicalResult OnnxImporter::readInputs(const onnx::GraphProto &graph) {
  SmallVector<const onnx::ValueInfoProto *> inputs;
  for (const onnx::ValueInfoProto &in : graph.input()) {
    auto given = options.constantInputs.find(in.name());
    if (options.functionMode && given != options.constantInputs.end()) {
      onnx::TensorProto proto;
      Val v;
      v.name = in.name();
      HostTensor host;
      std::string err = proto.ParseFromString(given->second)
                            ? readTensorProto(proto, host)
                            : "not a TensorProto";
      if (!err.empty())
        return emitError() << "constant input '" << in.name() << "': " << err,
               failure();
      v.shape = host.shape;
      v.elemType =
          host.isInt ? onnx::TensorProto::INT64 : onnx::TensorProto::FLOAT;
      v.constant = std::move(host);
      vals[v.name] = std::move(v);
      continue;
    }
    if (!vals.count(in.name()))
      inputs.push_back(&in);
  }
  if (!options.functionMode && inputs.size() != 1)
    return emitError() << "the model has " << inputs.size()
                       << " inputs that are not initializers; dlc trains "
                          "models with one input (the images)",
           failure();
  for (const onnx::ValueInfoProto *in : inputs) {
    loc = NameLoc::get(builder.getStringAttr(in->name()), fileLoc);
    auto fail = [&](const Twine &message) {
      return emitError() << "graph input '" << in->name() << "' " << message,
             failure();
    };
    if (!in->type().has_tensor_type())
      return fail("is not a tensor");
    const onnx::TypeProto::Tensor &tt = in->type().tensor_type();
    Val v;
    v.name = in->name();
    v.elemType = tt.elem_type();
    if (!tt.has_shape())
      return fail("has no shape (dlc needs static shapes)");
    for (auto [i, dim] : llvm::enumerate(tt.shape().dim())) {
      if (dim.has_dim_value() && dim.dim_value() > 0) {
        v.shape.push_back(dim.dim_value());
        continue;
      }
      if (dim.has_dim_value())
        return fail("has the dimension " + Twine(i) + " of size " +
                    Twine(dim.dim_value()) +
                    " (dlc tensors have no empty dimensions)");
      if (i == 0 && !options.functionMode) {
        v.shape.push_back(-1); // The batch: fixed below.
        continue;
      }
      return fail("has the dynamic dimension " + Twine(i) +
                  (dim.has_dim_param() ? " ('" + dim.dim_param() + "')"
                                       : std::string()) +
                  " (dlc needs static shapes; only the batch may vary)");
    }
    bool isFloat = v.elemType == onnx::TensorProto::FLOAT;
    bool isLabels = options.functionMode &&
                    (v.elemType == onnx::TensorProto::INT64 ||
                     v.elemType == onnx::TensorProto::INT32) &&
                    v.shape.size() == 1;
    if (!isFloat && !isLabels && options.functionMode) {
      // Reported where a node reads it (or at the end if none does), so
      // that an unsupported node says so first.
      vals[v.name] = std::move(v);
      continue;
    }
    if (!isFloat && !isLabels)
      return fail("has element type " +
                  onnx::TensorProto::DataType_Name(
                      onnx::TensorProto::DataType(v.elemType)) +
                  " (dlc computes in float32)");
    if (!options.functionMode) {
      if (v.shape.size() != 4 && v.shape.size() != 2)
        return fail("has shape " + shapeStr(v.shape) +
                    "; dlc trains on images [N, C, H, W] or features [N, F]");
      int64_t fromModel = v.shape[0];
      batchSize = options.batchSize ? *options.batchSize
                  : batchSize       ? batchSize
                  : fromModel > 0   ? fromModel
                                    : 32;
      v.shape[0] = batchSize;
    }
    if (!checkedNumElements(v.shape))
      return fail("has shape " + shapeStr(v.shape) +
                  ", too large: dlc tensors hold at most 2^31 elements");
    SmallVector<int64_t, 4> perm = isLabels
                                       ? SmallVector<int64_t, 4>{0}
                                       : inputLayoutFor(v.name, v.shape.size());
    Type element =
        isLabels ? Type(builder.getI32Type()) : Type(builder.getF32Type());
    v.value = body->addArgument(
        RankedTensorType::get(permute(v.shape, perm), element), loc);
    v.layout.base = v.shape;
    v.layout.perm.assign(perm.begin(), perm.end());
    argAttrs.push_back(builder.getDictionaryAttr(
        builder.getNamedAttr(attrs::kName, builder.getStringAttr(v.name))));
    OnnxLayout layout;
    layout.name = v.name;
    layout.onnxShape = v.shape;
    layout.base = v.shape;
    layout.perm.assign(perm.begin(), perm.end());
    layout.onnxType = v.elemType;
    argLayouts.push_back(layout);
    vals[v.name] = std::move(v);
  }
  loc = fileLoc;
  return success();
}

//===----------------------------------------------------------------------===//
// Ops
//===----------------------------------------------------------------------===//

/// Reads `name` (2 values for 2-D ops, 4 for pads) or its 2-D default.
/// For a 1-D op (`is1d`), 1 value (2 for pads) is expected and widened to
/// the 2-D form of an image of height 1: [v] -> [1, v], pads [b, e] ->
/// [0, b, 0, e].
static FailureOr<SmallVector<int64_t, 4>> pairs(NodeAttrs &a, StringRef name,
                                                SmallVector<int64_t, 4> def,
                                                bool is1d = false) {
  std::optional<SmallVector<int64_t>> v = a.getInts(name);
  if (!v)
    return def;
  if (!is1d) {
    if (v->size() != def.size())
      return failure();
    return SmallVector<int64_t, 4>(v->begin(), v->end());
  }
  if (v->size() * 2 != def.size())
    return failure();
  if (def.size() == 4)
    return SmallVector<int64_t, 4>{0, (*v)[0], 0, (*v)[1]};
  return SmallVector<int64_t, 4>{1, (*v)[0]};
}

LogicalResult OnnxImporter::importConv(NodeAttrs &a) {
  bool is1d = false;
  FailureOr<Value> x = imageOperand(0, &is1d);
  if (failed(x))
    return failure();
  FailureOr<Val *> w = operand(1);
  if (failed(w))
    return failure();
  if ((*w)->shape.size() != (is1d ? 3u : 4u))
    return unsupported("a weight of shape " + shapeStr((*w)->shape));
  // The weight's [kh, kw] (1-D: [1, k]).
  Shape wShape = (*w)->shape;
  SmallVector<int64_t, 4> kernelDims =
      is1d ? SmallVector<int64_t, 4>{1, wShape[2]}
           : SmallVector<int64_t, 4>{wShape[2], wShape[3]};
  FailureOr<Value> filter = is1d ? inLayout(**w, {2, 1, 0}, "kernel")
                                 : inLayout(**w, kHWCF, "kernel");
  if (succeeded(filter) && is1d)
    filter = reshaped(*filter, {1, wShape[2], wShape[1], wShape[0]});
  if (failed(filter))
    return failure();
  SmallVector<Value> operands = {*x, *filter};
  if (hasOperand(2)) {
    FailureOr<Val *> bias = operand(2);
    if (failed(bias))
      return failure();
    FailureOr<Value> b = inLayout(**bias, {0}, "bias");
    if (failed(b))
      return failure();
    operands.push_back(*b);
  }
  auto strides = pairs(a, "strides", {1, 1}, is1d);
  auto dilations = pairs(a, "dilations", {1, 1}, is1d);
  auto pads = pairs(a, "pads", {0, 0, 0, 0}, is1d);
  auto kernel = pairs(a, "kernel_shape", kernelDims, is1d);
  if (failed(strides) || failed(dilations) || failed(pads) || failed(kernel))
    return nodeError() << "strides, dilations, kernel_shape and pads must have "
                          "one value per spatial dimension (pads: two)",
           failure();
  if (*kernel != kernelDims)
    return nodeError() << "kernel_shape " << shapeStr(*kernel)
                       << " does not match the weight "
                       << shapeStr((*w)->shape),
           failure();
  auto positive = [](ArrayRef<int64_t> v) {
    return llvm::all_of(v, [](int64_t x) { return x >= 1; });
  };
  if (!positive(*strides) || !positive(*dilations) ||
      llvm::any_of(*pads, [](int64_t p) { return p < 0; }))
    return nodeError() << "strides and dilations must be >= 1 and pads >= 0",
           failure();
  int64_t group = a.getInt("group").value_or(1);
  std::string autoPad = a.getString("auto_pad").value_or("NOTSET");
  SmallVector<NamedAttribute> attrs = {
      builder.getNamedAttr("strides", builder.getDenseI64ArrayAttr(*strides)),
      builder.getNamedAttr("dilations",
                           builder.getDenseI64ArrayAttr(*dilations)),
      builder.getNamedAttr("groups", builder.getI64IntegerAttr(group))};
  auto padding = [&](PaddingMode mode) {
    return builder.getNamedAttr("padding", PaddingModeAttr::get(ctx, mode));
  };
  Shape in = dimsOf(*x);
  if (autoPad == "SAME_UPPER") {
    attrs.push_back(padding(PaddingMode::same));
  } else if (autoPad == "SAME_LOWER") {
    // The TensorFlow rule puts the odd pad at the end; SAME_LOWER at the
    // start: explicit pads.
    SmallVector<int64_t, 4> p;
    for (int d = 0; d < 2; ++d) {
      int64_t size = in[1 + d], s = (*strides)[d];
      int64_t out = (size + s - 1) / s;
      int64_t total = std::max<int64_t>(
          (out - 1) * s + ((*kernel)[d] - 1) * (*dilations)[d] + 1 - size, 0);
      p.push_back(total - total / 2);
      p.push_back(total / 2);
    }
    attrs.push_back(padding(PaddingMode::explicit_));
    attrs.push_back(
        builder.getNamedAttr("pads", builder.getDenseI64ArrayAttr(p)));
  } else if (autoPad == "NOTSET" || autoPad == "VALID") {
    if (autoPad == "NOTSET" &&
        llvm::any_of(*pads, [](int64_t p) { return p != 0; })) {
      // ONNX: [top, left, bottom, right]; dlc: [top, bottom, left, right].
      SmallVector<int64_t, 4> p = {(*pads)[0], (*pads)[2], (*pads)[1],
                                   (*pads)[3]};
      attrs.push_back(padding(PaddingMode::explicit_));
      attrs.push_back(
          builder.getNamedAttr("pads", builder.getDenseI64ArrayAttr(p)));
    }
  } else {
    return unsupported("auto_pad '" + autoPad + "'");
  }
  FailureOr<Value> y = create(Conv2DOp::getOperationName(), operands, attrs);
  if (failed(y))
    return failure();
  if (is1d)
    defineImage1d(*y);
  else
    defineImage(0, *y);
  return success();
}

LogicalResult OnnxImporter::importPool(NodeAttrs &a, bool isMax) {
  bool is1d = false;
  FailureOr<Value> x = imageOperand(0, &is1d);
  if (failed(x))
    return failure();
  auto kernel = pairs(a, "kernel_shape", {0, 0}, is1d);
  auto strides = pairs(a, "strides", {1, 1}, is1d);
  auto pads = pairs(a, "pads", {0, 0, 0, 0}, is1d);
  auto dilations = pairs(a, "dilations", {1, 1}, is1d);
  if (failed(kernel) || failed(strides) || failed(pads) || failed(dilations) ||
      (*kernel)[0] <= 0 || (*kernel)[1] <= 0)
    return nodeError() << "a 2-D pool needs kernel_shape (2 values), and 2 "
                          "strides, 2 dilations and 4 pads if given",
           failure();
  if ((*strides)[0] < 1 || (*strides)[1] < 1 ||
      llvm::any_of(*pads, [](int64_t p) { return p < 0; }))
    return nodeError() << "strides must be >= 1 and pads >= 0", failure();
  if ((*dilations)[0] != 1 || (*dilations)[1] != 1)
    return unsupported("pooling with dilations");
  if (a.getInt("storage_order").value_or(0) != 0)
    return unsupported("storage_order 1");
  bool ceilMode = a.getInt("ceil_mode").value_or(0) != 0;
  bool countIncludePad =
      !isMax && a.getInt("count_include_pad").value_or(0) != 0;
  std::string autoPad = a.getString("auto_pad").value_or("NOTSET");
  Shape in = dimsOf(*x);
  // Which dlc padding gives ONNX's windows exactly: none, or Keras 'same'
  // (ceil(in / stride) outputs, the odd pad at the end).
  bool valid = true, same = true;
  for (int d = 0; d < 2; ++d) {
    int64_t size = in[1 + d], k = (*kernel)[d], s = (*strides)[d];
    int64_t begin = (*pads)[d], end = (*pads)[d + 2];
    int64_t sameOut = (size + s - 1) / s;
    int64_t total = std::max<int64_t>((sameOut - 1) * s + k - size, 0);
    if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      begin = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
      end = total - begin;
    } else if (autoPad == "VALID") {
      begin = end = 0;
    } else if (autoPad != "NOTSET") {
      return unsupported("auto_pad '" + autoPad + "'");
    }
    int64_t span = size + begin + end - k;
    if (span < 0)
      return nodeError() << "the pool window is larger than the padded input",
             failure();
    int64_t out = (ceilMode ? (span + s - 1) / s : span / s) + 1;
    // ONNX drops a last window that starts in the end padding.
    if (ceilMode && (out - 1) * s >= size + begin)
      --out;
    // The end padding the windows actually reach (ceil_mode reaches past
    // the given pads; padding no window reaches does not matter).
    int64_t reached = std::max<int64_t>((out - 1) * s + k - size - begin, 0);
    valid &= begin == 0 && reached == 0 && out == (size - k) / s + 1;
    same &=
        begin == total / 2 && reached == total - total / 2 && out == sameOut;
  }
  if (!valid && !same)
    return unsupported("this padding (pads " + shapeStr(*pads) + ", auto_pad " +
                       autoPad + (ceilMode ? ", ceil_mode 1" : "") +
                       "), which is neither none nor Keras 'same'");
  if (!valid && countIncludePad)
    return unsupported("count_include_pad 1 with padding");
  SmallVector<NamedAttribute> attrs = {
      builder.getNamedAttr("pool_size", builder.getDenseI64ArrayAttr(*kernel)),
      builder.getNamedAttr("strides", builder.getDenseI64ArrayAttr(*strides))};
  if (!valid)
    attrs.push_back(builder.getNamedAttr(
        "padding", PaddingModeAttr::get(ctx, PaddingMode::same)));
  FailureOr<Value> y = create(isMax ? MaxPool2DOp::getOperationName()
                                    : AvgPool2DOp::getOperationName(),
                              *x, attrs);
  if (failed(y))
    return failure();
  if (node->output_size() > 1 && !node->output(1).empty())
    return unsupported("the Indices output of MaxPool");
  if (is1d)
    defineImage1d(*y);
  else
    defineImage(0, *y);
  return success();
}

LogicalResult OnnxImporter::importGlobalAveragePool(NodeAttrs &) {
  FailureOr<Value> x = imageOperand(0);
  if (failed(x))
    return failure();
  FailureOr<Value> y = create(GlobalAvgPoolOp::getOperationName(), *x);
  if (failed(y))
    return failure();
  // [N, C] in dlc is [N, C, 1, 1] in ONNX, in either order.
  Shape s = dimsOf(*y);
  Shape nchw = {s[0], s[1], 1, 1};
  Layout l;
  l.base = nchw;
  l.perm.assign(std::begin(kNHWC), std::end(kNHWC));
  defineOutput(0, *y, nchw, l);
  return success();
}

LogicalResult OnnxImporter::importBatchNorm(NodeAttrs &a) {
  FailureOr<Val *> xv = operand(0);
  if (failed(xv))
    return failure();
  size_t rank = (*xv)->shape.size();
  if (rank < 2 || rank > 4)
    return unsupported("batch normalization of a rank-" + Twine(rank) +
                       " input (dlc: [N, C, H, W], [N, C, L] or [N, C])");
  // Channels last in dlc.
  Shape perm = rank == 4   ? Shape(std::begin(kNHWC), std::end(kNHWC))
               : rank == 3 ? Shape{0, 2, 1}
                           : Shape{0, 1};
  FailureOr<Value> x = inLayout(**xv, perm);
  if (failed(x))
    return failure();
  const char *roles[] = {"gamma", "beta", "moving_mean", "moving_variance"};
  SmallVector<Value> operands = {*x};
  for (unsigned i = 1; i <= 4; ++i) {
    FailureOr<Val *> p = operand(i);
    if (failed(p))
      return failure();
    FailureOr<Value> v = inLayout(**p, {0}, roles[i - 1]);
    if (failed(v))
      return failure();
    operands.push_back(*v);
  }
  float epsilon = a.getFloat("epsilon").value_or(1e-5f);
  float momentum = a.getFloat("momentum").value_or(0.9f);
  if (a.getInt("spatial").value_or(1) != 1)
    return unsupported("spatial 0");
  if (a.get("is_test")) {
    // Opset < 7 marks inference with is_test; nothing to do.
  }
  bool training = a.getInt("training_mode").value_or(0) != 0;
  SmallVector<NamedAttribute> attrs = {
      builder.getNamedAttr("epsilon", builder.getF32FloatAttr(epsilon)),
      builder.getNamedAttr("momentum", builder.getF32FloatAttr(momentum))};
  bool extraOutputs = false;
  for (int i = 1; i < node->output_size(); ++i)
    extraOutputs |= isUsed(node->output(i));
  if (extraOutputs && !(training && options.functionMode))
    return unsupported("the running-statistics outputs of BatchNormalization "
                       "(dlc's train step updates them itself)");
  // A model exported in training mode (torch.onnx.TrainingMode.TRAINING)
  // has training_mode = 1 and running-statistics outputs nobody reads: for
  // training, that is what dlc's train step does with its inference form.
  bool trainForm = training && options.functionMode;
  Operation *op = nullptr;
  FailureOr<Value> y = create(trainForm ? BatchNormTrainOp::getOperationName()
                                        : BatchNormOp::getOperationName(),
                              operands, attrs, 0, &op);
  if (failed(y))
    return failure();
  Layout l{(*xv)->shape, perm};
  defineOutput(0, *y, (*xv)->shape, l);
  // batch_norm_train: (y, batch mean, batch variance, running mean,
  // running variance); ONNX: (Y, running_mean, running_var).
  for (int i = 1; trainForm && i < node->output_size() && i < 3; ++i)
    if (!node->output(i).empty()) {
      Value r = op->getResult(2 + i);
      defineOutput(i, r, dimsOf(r), Layout::identity(dimsOf(r)));
    }
  return success();
}

LogicalResult OnnxImporter::importUnary(NodeAttrs &a, StringRef opName) {
  FailureOr<Val *> x = operand(0);
  if (failed(x))
    return failure();
  Val in = **x;
  if (!in.value) {
    FailureOr<Value> v = inLayout(**x, Layout::identity(in.shape).perm);
    if (failed(v))
      return failure();
    in.value = *v;
    in.layout = Layout::identity(in.shape);
  }
  SmallVector<NamedAttribute> attrs;
  if (opName == LeakyReluOp::getOperationName())
    attrs.push_back(builder.getNamedAttr(
        "alpha", builder.getF32FloatAttr(a.getFloat("alpha").value_or(0.01f))));
  FailureOr<Value> y = create(opName, in.value, attrs);
  if (failed(y))
    return failure();
  defineOutput(0, *y, in.shape, in.layout);
  return success();
}

LogicalResult OnnxImporter::importSoftmax(NodeAttrs &a) {
  FailureOr<Val *> xv = operand(0);
  if (failed(xv))
    return failure();
  Val &x = **xv;
  int64_t rank = x.shape.size();
  int64_t axis = a.getInt("axis").value_or(opset < 13 ? 1 : -1);
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis >= rank)
    return nodeError() << "axis " << axis << " is out of range", failure();
  // Work in the value's own order when it is a permutation of the ONNX
  // shape (NHWC images), else in ONNX order.
  Shape perm = Layout::identity(x.shape).perm;
  if (x.value && x.layout.base == x.shape)
    perm = x.layout.perm;
  FailureOr<Value> v = inLayout(x, perm);
  if (failed(v))
    return failure();
  Shape dlcShape = permute(x.shape, perm);
  Value y;
  if (opset >= 13) {
    int64_t dlcAxis = llvm::find(perm, axis) - perm.begin();
    FailureOr<Value> r = create(
        SoftmaxOp::getOperationName(), *v,
        {builder.getNamedAttr("axis", builder.getI64IntegerAttr(dlcAxis))});
    if (failed(r))
      return failure();
    y = *r;
  } else {
    // Softmax over the flattened dimensions axis..rank-1: they must be a
    // suffix of the dlc order (their order within it does not matter).
    int64_t suffix = rank - axis;
    for (int64_t i = rank - suffix; i < rank; ++i)
      if (perm[i] < axis)
        return unsupported("softmax over dimensions that are not the last "
                           "ones in dlc's layout");
    Shape flat = {numElements(ArrayRef<int64_t>(dlcShape).take_front(axis)),
                  numElements(ArrayRef<int64_t>(dlcShape).drop_front(axis))};
    FailureOr<Value> f = reshaped(*v, flat);
    if (failed(f))
      return failure();
    FailureOr<Value> r = create(SoftmaxOp::getOperationName(), *f);
    if (failed(r))
      return failure();
    FailureOr<Value> back = reshaped(*r, dlcShape);
    if (failed(back))
      return failure();
    y = *back;
  }
  Layout l;
  l.base = x.shape;
  l.perm = perm;
  defineOutput(0, y, x.shape, l);
  return success();
}

FailureOr<Value> OnnxImporter::denseKernel(Val &b, bool transB, double alpha,
                                           ArrayRef<int64_t> sigma, int64_t k) {
  if (b.shape.size() != 2)
    return unsupported("a weight of shape " + shapeStr(b.shape) +
                       " (dlc: 2-D)");
  Shape perm = transB ? Shape{1, 0} : Shape{0, 1};
  bool identityRows = sigma.empty();
  if (!b.constant) {
    if (!identityRows)
      return nodeError() << "its input is a flattened NCHW tensor (in NHWC "
                            "order in dlc): its weight must be an initializer "
                            "so that dlc can permute its rows",
             failure();
    if (alpha != 1.0)
      return unsupported("alpha != 1 with a weight that is not a constant");
    return inLayout(b, perm, "kernel");
  }
  // kernel[j, m] = alpha * B'[sigma(j), m], B' = transB ? B^T : B.
  Shape kshape = permute(b.shape, perm);
  if (kshape[0] != k)
    return nodeError() << "its weight " << shapeStr(b.shape)
                       << " does not match its input's " << k << " features",
           failure();
  std::vector<float> bt = permuteData(*b.constant, b.shape, perm);
  std::vector<float> kernel(bt.size());
  int64_t m = kshape[1];
  for (int64_t j = 0; j < k; ++j) {
    int64_t src = identityRows ? j : sigma[j];
    for (int64_t c = 0; c < m; ++c)
      kernel[j * m + c] = float(alpha * bt[src * m + c]);
  }
  return materialize(b, std::move(kernel), kshape, "kernel");
}

LogicalResult OnnxImporter::importGemm(NodeAttrs &a, bool isMatMul) {
  FailureOr<Val *> av = operand(0), bv = operand(1);
  if (failed(av) || failed(bv))
    return failure();
  Val &A = **av;
  bool transA = !isMatMul && a.getInt("transA").value_or(0);
  bool transB = !isMatMul && a.getInt("transB").value_or(0);
  double alpha = isMatMul ? 1.0 : a.getFloat("alpha").value_or(1.0f);
  double beta = isMatMul ? 1.0 : a.getFloat("beta").value_or(1.0f);
  // Opset < 7: `broadcast` lets C broadcast, which dlc handles by shape.
  if (!isMatMul)
    a.getInt("broadcast");
  if (A.shape.size() != 2)
    return unsupported("a rank-" + Twine(A.shape.size()) +
                       " first input (dlc: [N, K])");
  // A in ONNX order, or a flattened image whose weight rows we permute.
  Value x;
  std::vector<int64_t> sigma;
  if (transA || A.constant || A.layout.isIdentityOrder()) {
    FailureOr<Value> v = inLayout(A, transA ? Shape{1, 0} : Shape{0, 1});
    if (failed(v))
      return failure();
    x = *v;
  } else {
    sigma = rowPermutation(A.layout, A.shape);
    if (sigma.empty())
      return nodeError() << "its input '" << A.name
                         << "' mixes the batch with other dimensions in "
                            "dlc's layout",
             failure();
    FailureOr<Value> v = reshaped(A.value, A.shape);
    if (failed(v))
      return failure();
    x = *v;
  }
  int64_t n = dimsOf(x)[0], k = dimsOf(x)[1];
  FailureOr<Value> kernel = denseKernel(**bv, transB, alpha, sigma, k);
  if (failed(kernel))
    return failure();
  int64_t m = dimsOf(*kernel)[1];
  SmallVector<Value> operands = {x, *kernel};
  Value addLater;
  if (!isMatMul && hasOperand(2)) {
    FailureOr<Val *> cv = operand(2);
    if (failed(cv))
      return failure();
    Val &C = **cv;
    int64_t cn = numElements(C.shape);
    bool isVector = (C.shape.size() == 1 && C.shape[0] == m) ||
                    (C.shape.size() == 2 && C.shape[0] == 1 && C.shape[1] == m);
    if (C.constant) {
      std::vector<float> bias(m);
      if (!isVector && cn != 1)
        return unsupported("a bias C of shape " + shapeStr(C.shape) +
                           " (dlc: [M], [1, M] or one value)");
      for (int64_t j = 0; j < m; ++j)
        bias[j] = float(beta * C.constant->at(cn == 1 ? 0 : j));
      FailureOr<Value> b = materialize(C, std::move(bias), {m}, "bias");
      if (failed(b))
        return failure();
      operands.push_back(*b);
    } else {
      if (beta != 1.0)
        return unsupported("beta != 1 with a bias C that is not a constant");
      if (isVector) {
        FailureOr<Value> b =
            inLayout(C, Layout::identity(C.shape).perm, "bias");
        if (succeeded(b))
          b = reshaped(*b, {m});
        if (failed(b))
          return failure();
        operands.push_back(*b);
      } else if (C.shape == Shape{n, m}) {
        FailureOr<Value> c = inLayout(C, {0, 1});
        if (failed(c))
          return failure();
        addLater = *c;
      } else {
        return unsupported("a bias C of shape " + shapeStr(C.shape) +
                           " that is not a constant");
      }
    }
  }
  FailureOr<Value> y = create(DenseOp::getOperationName(), operands);
  if (failed(y))
    return failure();
  if (addLater) {
    y = create(AddOp::getOperationName(), {*y, addLater});
    if (failed(y))
      return failure();
  }
  defineOutput(0, *y, dimsOf(*y), Layout::identity(dimsOf(*y)));
  return success();
}

LogicalResult OnnxImporter::importAdd(NodeAttrs &) {
  FailureOr<Val *> av = operand(0), bv = operand(1);
  if (failed(av) || failed(bv))
    return failure();
  Val *A = *av, *B = *bv;
  if (A->constant && !B->constant)
    std::swap(A, B);
  if (!A->value)
    return unsupported("Add of two constants that are not integers");
  if (A->shape.empty())
    return unsupported("Add of scalars");
  // Work in A's order.
  Shape perm = Layout::identity(A->shape).perm;
  if (A->layout.base == A->shape)
    perm = A->layout.perm;
  FailureOr<Value> x = inLayout(*A, perm);
  if (failed(x))
    return failure();
  Value y;
  if (B->shape == A->shape) {
    FailureOr<Value> b = inLayout(*B, perm, "bias");
    if (failed(b))
      return failure();
    FailureOr<Value> r = create(AddOp::getOperationName(), {*x, *b});
    if (failed(r))
      return failure();
    y = *r;
  } else {
    // A bias along the dimension that is last in dlc's order: B broadcasts
    // along every other dimension.
    int64_t last = perm.back();
    int64_t rank = A->shape.size();
    int64_t offset = rank - int64_t(B->shape.size());
    bool isBias = offset >= 0;
    for (int64_t i = 0; isBias && i < int64_t(B->shape.size()); ++i) {
      int64_t d = i + offset;
      isBias &= d == last ? B->shape[i] == A->shape[d] : B->shape[i] == 1;
    }
    if (!isBias)
      return unsupported("broadcasting " + shapeStr(B->shape) + " to " +
                         shapeStr(A->shape) +
                         " (dlc adds tensors of one shape, or a bias along "
                         "the channels)");
    int64_t c = A->shape[last];
    FailureOr<Value> b;
    if (B->constant) {
      b = materialize(*B, permuteData(*B->constant, {c}, {0}), {c}, "bias");
    } else {
      FailureOr<Value> full =
          inLayout(*B, Layout::identity(B->shape).perm, "bias");
      if (failed(full))
        return failure();
      b = reshaped(*full, {c});
    }
    if (failed(b))
      return failure();
    FailureOr<Value> r = create(BiasAddOp::getOperationName(), {*x, *b});
    if (failed(r))
      return failure();
    y = *r;
  }
  Layout l;
  l.base = A->shape;
  l.perm = perm;
  defineOutput(0, y, A->shape, l);
  return success();
}

LogicalResult OnnxImporter::importConcat(NodeAttrs &a) {
  SmallVector<Val *> inputs;
  for (int i = 0; i < node->input_size(); ++i) {
    FailureOr<Val *> v = operand(i);
    if (failed(v))
      return failure();
    inputs.push_back(*v);
  }
  if (inputs.empty())
    return nodeError() << "it has no inputs", failure();
  Val &first = *inputs.front();
  int64_t rank = first.shape.size();
  std::optional<int64_t> axisAttr = a.getInt("axis");
  if (!axisAttr)
    return nodeError() << "the attribute 'axis' is required", failure();
  int64_t axis = *axisAttr < 0 ? *axisAttr + rank : *axisAttr;
  if (axis < 0 || axis >= rank)
    return nodeError() << "axis " << *axisAttr << " is out of range", failure();
  Shape perm = Layout::identity(first.shape).perm;
  if (first.value && first.layout.base == first.shape)
    perm = first.layout.perm;
  SmallVector<Value> operands;
  Shape shape = first.shape;
  shape[axis] = 0;
  for (Val *v : inputs) {
    if (int64_t(v->shape.size()) != rank)
      return nodeError() << "its inputs differ in rank", failure();
    FailureOr<Value> x = inLayout(*v, perm);
    if (failed(x))
      return failure();
    operands.push_back(*x);
    shape[axis] += v->shape[axis];
  }
  int64_t dlcAxis = llvm::find(perm, axis) - perm.begin();
  FailureOr<Value> y = create(
      ConcatOp::getOperationName(), operands,
      {builder.getNamedAttr("axis", builder.getI64IntegerAttr(dlcAxis))});
  if (failed(y))
    return failure();
  Layout l;
  l.base = shape;
  l.perm = perm;
  defineOutput(0, *y, shape, l);
  return success();
}

LogicalResult OnnxImporter::importReshape(NodeAttrs &a, bool isFlatten) {
  FailureOr<Val *> xv = operand(0);
  if (failed(xv))
    return failure();
  Val &x = **xv;
  int64_t rank = x.shape.size();
  Shape target;
  if (isFlatten) {
    int64_t axis = a.getInt("axis").value_or(1);
    if (axis < 0)
      axis += rank;
    if (axis < 0 || axis > rank)
      return nodeError() << "axis is out of range", failure();
    target = {numElements(ArrayRef<int64_t>(x.shape).take_front(axis)),
              numElements(ArrayRef<int64_t>(x.shape).drop_front(axis))};
  } else {
    FailureOr<Val *> sv = operand(1);
    if (failed(sv))
      return failure();
    if (!(*sv)->constant || !(*sv)->constant->isInt)
      return nodeError() << "its shape '" << (*sv)->name
                         << "' is not a constant (dlc needs static shapes; "
                            "the importer folds Shape/Gather/Concat chains "
                            "of constants)",
             failure();
    bool allowZero = a.getInt("allowzero").value_or(0) != 0;
    int64_t known = 1, inferred = -1;
    const std::vector<int64_t> &s = (*sv)->constant->i;
    for (auto [i, entry] : llvm::enumerate(s)) {
      int64_t d = entry;
      if (d == 0 && !allowZero) {
        if (int64_t(i) >= rank)
          return nodeError() << "shape entry " << i << " copies a dimension "
                             << "the input does not have",
                 failure();
        d = x.shape[i];
      }
      if (d == -1) {
        if (inferred >= 0)
          return nodeError() << "its shape has two -1 entries", failure();
        inferred = i;
        target.push_back(1);
        continue;
      }
      if (d < 0)
        return nodeError() << "its shape has the entry " << d, failure();
      std::optional<int64_t> product = llvm::checkedMul(known, d);
      if (!product || *product > kMaxElements)
        return nodeError() << "its shape " << shapeStr(s) << " is too large",
               failure();
      known = *product;
      target.push_back(d);
    }
    int64_t total = numElements(x.shape);
    if (inferred >= 0) {
      if (known == 0 || total % known)
        return nodeError() << "cannot reshape " << shapeStr(x.shape) << " to "
                           << shapeStr(s),
               failure();
      target[inferred] = total / known;
    }
    if (numElements(target) != total)
      return nodeError() << "cannot reshape " << shapeStr(x.shape) << " ("
                         << total << " elements) to " << shapeStr(target)
                         << " (at batch size " << batchSize << ")",
             failure();
  }
  if (x.constant) {
    Val &out = define(0);
    out.constant = *x.constant;
    out.constant->shape = target;
    out.shape = target;
    out.elemType = x.elemType;
    out.isInitializer = x.isInitializer;
    out.name = x.isInitializer ? x.name : out.name;
    return success();
  }
  // The buffer keeps its order: only the shape changes (dlc.flatten when
  // the batch stays, as for Keras's Flatten).
  FailureOr<Value> y = target.size() == 2 && target[0] == dimsOf(x.value)[0] &&
                               dimsOf(x.value).size() > 2
                           ? create(FlattenOp::getOperationName(), x.value)
                           : reshaped(x.value, target);
  if (failed(y))
    return failure();
  if (dimsOf(*y) != target) {
    y = reshaped(*y, target);
    if (failed(y))
      return failure();
  }
  defineOutput(0, *y, target, x.layout);
  return success();
}

LogicalResult OnnxImporter::importDropout(NodeAttrs &a) {
  FailureOr<Val *> xv = operand(0);
  if (failed(xv))
    return failure();
  float ratio = a.getFloat("ratio").value_or(0.5f);
  if (hasOperand(1)) {
    FailureOr<Val *> r = operand(1);
    if (failed(r))
      return failure();
    if (!(*r)->constant || (*r)->constant->size() != 1)
      return unsupported("a ratio that is not a constant");
    ratio = float((*r)->constant->at(0));
  }
  if (hasOperand(2)) {
    FailureOr<Val *> t = operand(2);
    if (failed(t))
      return failure();
    // A model exported for training says true: dlc's train step applies
    // dropout in training and not in evaluation either way.
    if (!(*t)->constant || (*t)->constant->size() != 1 ||
        ((*t)->constant->at(0) != 0 && options.functionMode))
      return unsupported("training_mode that is not the constant false "
                         "(dlc's train step applies dropout in training)");
  }
  a.getInt("seed");
  a.get("is_test");
  if (node->output_size() > 1 && isUsed(node->output(1)))
    return unsupported("the mask output of Dropout");
  Val &x = **xv;
  if (!x.value)
    return unsupported("Dropout of a constant");
  FailureOr<Value> y = create(
      DropoutOp::getOperationName(), x.value,
      {builder.getNamedAttr("rate", builder.getF32FloatAttr(ratio)),
       builder.getNamedAttr("stream", builder.getI64IntegerAttr(nextStream))});
  if (failed(y))
    return failure();
  ++nextStream;
  defineOutput(0, *y, x.shape, x.layout);
  return success();
}

LogicalResult OnnxImporter::importSoftmaxCrossEntropy(NodeAttrs &a) {
  if (!options.functionMode)
    return unsupported("a loss inside the graph (give the loss in the "
                       "sidecar YAML; dlc builds the train step)");
  std::string reduction = a.getString("reduction").value_or("mean");
  if (reduction != "mean")
    return unsupported("reduction '" + reduction + "'");
  if (a.get("ignore_index"))
    return unsupported("ignore_index");
  if (hasOperand(2))
    return unsupported("class weights");
  if (node->output_size() > 1 && !node->output(1).empty())
    return unsupported("the log_prob output");
  FailureOr<Val *> sv = operand(0), lv = operand(1);
  if (failed(sv) || failed(lv))
    return failure();
  if ((*sv)->shape.size() != 2)
    return unsupported("scores of shape " + shapeStr((*sv)->shape) +
                       " (dlc: [N, C])");
  FailureOr<Value> scores = inLayout(**sv, {0, 1});
  if (failed(scores))
    return failure();
  if (!(*lv)->value || (*lv)->shape.size() != 1)
    return unsupported("labels that are not a graph input of shape [N]");
  FailureOr<Value> loss = create(SoftmaxCrossEntropyOp::getOperationName(),
                                 {*scores, (*lv)->value});
  if (failed(loss))
    return failure();
  defineOutput(0, *loss, {}, Layout::identity({}));
  return success();
}

LogicalResult OnnxImporter::importConstant(NodeAttrs &a) {
  HostTensor t;
  if (const onnx::AttributeProto *v = a.get("value")) {
    std::string err = readTensorProto(v->t(), t);
    if (!err.empty())
      return nodeError() << "its value: " << err, failure();
  } else if (auto f = a.getFloat("value_float")) {
    t = HostTensor::floats({}, {*f});
  } else if (auto i = a.getInt("value_int")) {
    t = HostTensor::ints({}, {*i});
  } else if (auto is = a.getInts("value_ints")) {
    t = HostTensor::ints({int64_t(is->size())},
                         std::vector<int64_t>(is->begin(), is->end()));
  } else if (const onnx::AttributeProto *fs = a.get("value_floats")) {
    t = HostTensor::floats(
        {fs->floats_size()},
        std::vector<float>(fs->floats().begin(), fs->floats().end()));
  } else {
    return unsupported("this kind of Constant");
  }
  Val &out = define(0);
  out.shape = t.shape;
  out.elemType = t.isInt ? onnx::TensorProto::INT64 : onnx::TensorProto::FLOAT;
  out.constant = std::move(t);
  return success();
}

LogicalResult OnnxImporter::importShape(NodeAttrs &a) {
  FailureOr<Val *> x = operand(0);
  if (failed(x))
    return failure();
  int64_t rank = (*x)->shape.size();
  int64_t start = a.getInt("start").value_or(0);
  int64_t end = a.getInt("end").value_or(rank);
  if (start < 0)
    start += rank;
  if (end < 0)
    end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, start, rank);
  std::vector<int64_t> dims((*x)->shape.begin() + start,
                            (*x)->shape.begin() + end);
  Val &out = define(0);
  out.shape = {int64_t(dims.size())};
  out.elemType = onnx::TensorProto::INT64;
  out.constant = HostTensor::ints(out.shape, std::move(dims));
  return success();
}

LogicalResult OnnxImporter::importNode(const onnx::NodeProto &n) {
  node = &n;
  std::string name = n.name().empty() ? n.op_type() : n.name();
  loc = NameLoc::get(builder.getStringAttr(name), fileLoc);
  if (n.domain() == "ai.onnx.preview.training")
    return unsupported(
        "the training operator " + n.op_type() +
        " (ai.onnx.preview.training): dlc's optimizers are Keras's SGD, "
        "Adam and AdamW, built into the train step from the sidecar's "
        "'optimizer'; ONNX's Momentum and Adam are parameterized differently "
        "(alpha, beta, norm_coefficient) and have no equivalent");
  if (!n.domain().empty() && n.domain() != "ai.onnx")
    return unsupported("the operator domain '" + n.domain() + "' (op " +
                       n.op_type() + ")");
  StringRef op = n.op_type();
  NodeAttrs attrs(n);
  if (n.output_size() == 0 || n.output(0).empty())
    return nodeError() << "it has no output", failure();
  for (int i = 0; i < n.output_size(); ++i)
    if (!n.output(i).empty() && vals.count(n.output(i)))
      return nodeError() << "output '" << n.output(i) << "' is defined twice",
             failure();

  // Constant folding first: the shape subgraphs of torch.onnx.export.
  bool allConstant = n.input_size() > 0;
  SmallVector<const HostTensor *> constants;
  for (int i = 0; i < n.input_size(); ++i) {
    if (n.input(i).empty()) {
      constants.push_back(nullptr);
      continue;
    }
    auto it = vals.find(n.input(i));
    bool isConst = it != vals.end() && it->second.constant;
    allConstant &= isConst;
    constants.push_back(isConst ? &*it->second.constant : nullptr);
  }
  if (allConstant && op != "Reshape" && op != "Flatten" &&
      n.output_size() == 1) {
    HostTensor out;
    std::string error;
    if (foldConstantNode(op, constants, attrs, out, error)) {
      if (!error.empty())
        return nodeError() << "cannot fold it: " << error, failure();
      if (std::string unused = attrs.firstUnused(); !unused.empty())
        return unsupported("attribute '" + unused + "'");
      // A weight folded from an initializer (Identity copies, a transposed
      // Linear weight) is still a weight: a parameter, trained. Identity
      // gives it its own name: torch.onnx.export shares one initializer
      // between equal tensors (a BN gamma and its running variance both
      // start at ones) and makes the others Identity copies of it.
      std::string weightName;
      for (int i = 0; i < n.input_size() && weightName.empty(); ++i) {
        auto it = vals.find(n.input(i));
        if (it != vals.end() && it->second.isInitializer && !out.isInt)
          weightName = op == "Identity" ? n.output(0) : it->second.name;
      }
      Val &v = define(0);
      v.shape = out.shape;
      v.elemType =
          out.isInt ? onnx::TensorProto::INT64 : onnx::TensorProto::FLOAT;
      v.constant = std::move(out);
      if (!weightName.empty()) {
        v.isInitializer = true;
        v.name = weightName;
      }
      return success();
    }
  }

  LogicalResult result = failure();
  if (op == "Conv")
    result = importConv(attrs);
  else if (op == "MaxPool")
    result = importPool(attrs, /*isMax=*/true);
  else if (op == "AveragePool")
    result = importPool(attrs, /*isMax=*/false);
  else if (op == "GlobalAveragePool")
    result = importGlobalAveragePool(attrs);
  else if (op == "BatchNormalization")
    result = importBatchNorm(attrs);
  else if (op == "Relu")
    result = importUnary(attrs, ReluOp::getOperationName());
  else if (op == "LeakyRelu")
    result = importUnary(attrs, LeakyReluOp::getOperationName());
  else if (op == "Sigmoid")
    result = importUnary(attrs, SigmoidOp::getOperationName());
  else if (op == "Tanh")
    result = importUnary(attrs, TanhOp::getOperationName());
  else if (op == "Softmax")
    result = importSoftmax(attrs);
  else if (op == "Gemm")
    result = importGemm(attrs, /*isMatMul=*/false);
  else if (op == "MatMul")
    result = importGemm(attrs, /*isMatMul=*/true);
  else if (op == "Add")
    result = importAdd(attrs);
  else if (op == "Concat")
    result = importConcat(attrs);
  else if (op == "Flatten")
    result = importReshape(attrs, /*isFlatten=*/true);
  else if (op == "Reshape")
    result = importReshape(attrs, /*isFlatten=*/false);
  else if (op == "Dropout")
    result = importDropout(attrs);
  else if (op == "SoftmaxCrossEntropyLoss")
    result = importSoftmaxCrossEntropy(attrs);
  else if (op == "Constant")
    result = importConstant(attrs);
  else if (op == "Shape")
    result = importShape(attrs);
  else if (op == "Identity") {
    FailureOr<Val *> x = operand(0);
    if (failed(x))
      return failure();
    Val copy = **x;
    Val &out = define(0);
    std::string outName = out.name;
    out = copy;
    if (!copy.isInitializer)
      out.name = outName;
    result = success();
  } else
    return unsupported("the operator " + op.str());
  if (failed(result))
    return failure();
  if (std::string unused = attrs.firstUnused(); !unused.empty())
    return unsupported("attribute '" + unused + "'");
  return success();
}

//===----------------------------------------------------------------------===//
// Training settings from the sidecar
//===----------------------------------------------------------------------===//

LogicalResult OnnxImporter::readTrainingSettings(ModuleOp module, Value output,
                                                 int64_t batch) {
  // <model>.onnx.yaml, else <model>.yaml.
  std::string sidecar = filename + ".yaml";
  if (!llvm::sys::fs::exists(sidecar)) {
    SmallString<256> alt(filename);
    llvm::sys::path::replace_extension(alt, ".yaml");
    sidecar = alt.str().str();
  }
  llvm::SourceMgr sourceMgr;
  bool hasSidecar = llvm::sys::fs::exists(sidecar) && sidecar != filename;
  std::unique_ptr<llvm::MemoryBuffer> buffer;
  if (hasSidecar) {
    auto file = llvm::MemoryBuffer::getFile(sidecar);
    if (!file)
      return emitError() << "cannot read " << sidecar << ": "
                         << file.getError().message(),
             failure();
    buffer = std::move(*file);
  } else {
    buffer = llvm::MemoryBuffer::getMemBufferCopy("{}\n", sidecar);
  }
  sourceMgr.AddNewSourceBuffer(std::move(buffer), llvm::SMLoc());
  import::ModelSource source(sourceMgr, ctx);
  FailureOr<std::unique_ptr<import::Document>> doc =
      import::Document::parse(source);
  if (failed(doc))
    return failure();
  const import::DocNode *root = (*doc)->getRoot();
  if (!root->isMapping() && !root->isNull())
    return source.emitError(root)
               << "the ONNX sidecar must be a mapping of training settings "
                  "(loss, optimizer, metrics, batch_size, epochs, input)",
           failure();
  import::ModelSpec spec;
  spec.format = import::ModelFormat::DlcYaml;
  SmallVector<float> scale = {1.0f / 255.0f}, offset = {0.0f};
  if (root->isMapping()) {
    for (auto [key, value] : root->entries) {
      StringRef k = key->text;
      if (k == "loss")
        spec.training.loss = value;
      else if (k == "optimizer")
        spec.training.optimizer = value;
      else if (k == "metrics")
        spec.training.metrics = value;
      else if (k == "batch_size")
        spec.training.batchSize = value;
      else if (k == "epochs")
        spec.training.epochs = value;
      else if (k == "input") {
        // {scale, offset}: one number each.
        if (!value->isMapping())
          return source.emitError(value)
                     << "'input' must be a mapping {scale, offset}",
                 failure();
        for (auto [ik, iv] : value->entries) {
          std::optional<double> number = iv->asNumber();
          if ((ik->text != "scale" && ik->text != "offset") || !number)
            return source.emitError(ik)
                       << "'input' takes the numbers 'scale' and 'offset'",
                   failure();
          (ik->text == "scale" ? scale : offset) = {float(*number)};
        }
      } else
        return source.emitError(key)
                   << "unknown training setting '" << k
                   << "' (the sidecar of an ONNX model takes loss, "
                      "optimizer, metrics, batch_size, epochs, input)",
               failure();
    }
  }
  Location outputLoc = output.getLoc();
  if (failed(import::readTrainingSettings(source, spec, module, output,
                                          outputLoc, batch)))
    return failure();
  module->setAttr(
      attrs::kInputNormalization,
      builder.getDictionaryAttr(
          {builder.getNamedAttr("scale", builder.getDenseF32ArrayAttr(scale)),
           builder.getNamedAttr("offset",
                                builder.getDenseF32ArrayAttr(offset))}));
  return success();
}

/// The sidecar's batch_size, read before the graph (it fixes the batch).
static std::optional<int64_t> sidecarBatchSize(StringRef filename) {
  for (std::string path : {filename.str() + ".yaml", std::string()}) {
    if (path.empty()) {
      SmallString<256> alt(filename);
      llvm::sys::path::replace_extension(alt, ".yaml");
      path = alt.str().str();
    }
    auto file = llvm::MemoryBuffer::getFile(path);
    if (!file || path == filename)
      continue;
    // A light scan; readTrainingSettings checks the value properly later.
    StringRef text = (*file)->getBuffer();
    size_t at = text.find("batch_size:");
    if (at == StringRef::npos)
      return std::nullopt;
    int64_t value;
    StringRef rest = text.drop_front(at + 11).ltrim(" \t");
    rest = rest.take_while([](char c) { return c >= '0' && c <= '9'; });
    if (rest.getAsInteger(10, value) || value < 1)
      return std::nullopt;
    return value;
  }
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// The model
//===----------------------------------------------------------------------===//

OwningOpRef<ModuleOp> OnnxImporter::run(const onnx::ModelProto &model,
                                        OnnxSignature *signature) {
  for (const onnx::OperatorSetIdProto &o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx")
      opset = o.version();
  graph = &model.graph();
  if (!options.functionMode)
    if (std::optional<int64_t> b = sidecarBatchSize(filename))
      batchSize = *b;

  std::string name = llvm::sys::path::stem(filename).str();
  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc, name);
  builder.setInsertionPointToEnd(module->getBody());
  auto forward = func::FuncOp::create(builder, fileLoc, kForwardFuncName,
                                      builder.getFunctionType({}, {}));
  body = forward.addEntryBlock();
  builder.setInsertionPointToEnd(body);
  if (failed(readInitializers(*graph)) || failed(readInputs(*graph)))
    return {};
  for (auto [i, n] : llvm::enumerate(graph->node())) {
    nodeIndex = i;
    if (failed(importNode(n)))
      return {};
  }
  node = nullptr;
  loc = fileLoc;
  for (const onnx::ValueInfoProto &in : graph->input()) {
    auto it = vals.find(in.name());
    if (it != vals.end() && !it->second.value && !it->second.constant) {
      emitError() << "graph input '" << in.name() << "' has element type "
                  << onnx::TensorProto::DataType_Name(
                         onnx::TensorProto::DataType(it->second.elemType))
                  << " (dlc computes in float32)";
      return {};
    }
  }

  if (!options.functionMode && graph->output_size() != 1) {
    emitError() << "the model has " << graph->output_size()
                << " outputs; dlc trains models with one output";
    return {};
  }
  SmallVector<Value> results;
  SmallVector<OnnxLayout> resultLayouts;
  for (const onnx::ValueInfoProto &out : graph->output()) {
    auto it = vals.find(out.name());
    if (it == vals.end()) {
      emitError() << "graph output '" << out.name() << "' is not computed";
      return {};
    }
    Val &v = it->second;
    if (!v.value) {
      emitError() << "graph output '" << out.name()
                  << "' is a constant; dlc needs it computed from the input";
      return {};
    }
    if (!options.functionMode && !v.layout.isIdentityOrder()) {
      if (v.shape.size() == 4)
        emitError() << "graph output '" << out.name() << "' of shape "
                    << shapeStr(v.shape)
                    << " is an NCHW image; dlc trains models whose output is "
                       "[N, classes] (add Flatten or GlobalAveragePool)";
      else
        emitError() << "graph output '" << out.name() << "' of shape "
                    << shapeStr(v.shape)
                    << " is a flattened NCHW image, which dlc holds in NHWC "
                       "order; end the model with a Gemm or MatMul (whose "
                       "weights dlc permutes) or a GlobalAveragePool";
      return {};
    }
    results.push_back(v.value);
    OnnxLayout l;
    l.name = v.name;
    l.onnxShape = v.shape;
    l.base = v.layout.base;
    l.perm = v.layout.perm;
    resultLayouts.push_back(l);
  }
  Location outputLoc =
      NameLoc::get(builder.getStringAttr(graph->output(0).name()), fileLoc);
  func::ReturnOp::create(builder, outputLoc, results);
  forward.setFunctionType(builder.getFunctionType(
      body->getArgumentTypes(), ValueRange(results).getTypes()));
  forward.setAllArgAttrs(argAttrs);
  if (!options.functionMode &&
      failed(readTrainingSettings(*module, results.front(), batchSize)))
    return {};
  if (failed(mlir::verify(*module)))
    return {};
  if (signature) {
    signature->args = argLayouts;
    signature->results = resultLayouts;
  }
  return module;
}

OwningOpRef<ModuleOp>
mlir::dlc::importOnnxModel(llvm::SourceMgr &sourceMgr, MLIRContext *context,
                           const OnnxImportOptions &options,
                           OnnxSignature *signature) {
  context->loadDialect<DLCDialect, func::FuncDialect, arith::ArithDialect>();
  const llvm::MemoryBuffer *buffer =
      sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID());
  StringRef filename = buffer->getBufferIdentifier();
  Location fileLoc = FileLineColLoc::get(context, filename, 0, 0);
  onnx::ModelProto model;
  if (buffer->getBufferSize() > size_t(INT32_MAX) ||
      !model.ParseFromArray(buffer->getBufferStart(),
                            int(buffer->getBufferSize()))) {
    emitError(fileLoc) << "not a valid ONNX model (the file does not parse "
                          "as an ONNX ModelProto)";
    return {};
  }
  if (!model.has_graph()) {
    emitError(fileLoc) << "the ONNX model has no graph";
    return {};
  }
  OnnxImporter importer(context, filename, options);
  return importer.run(model, signature);
}
