//===- OnnxImporter.h - The ONNX importer's state ---------------*- C++ -*-===//
//
// The class that imports one ONNX graph (ReadOnnx.cpp: graph inputs,
// initializers, the node dispatcher, the sidecar settings; OnnxOps.cpp: one
// function per ONNX op) and what it tracks per ONNX tensor: its shape, its
// dlc value and the Layout of that value, or its host data when constant.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_LIB_IMPORT_ONNXIMPORTER_H
#define DLC_LIB_IMPORT_ONNXIMPORTER_H

#include "OnnxTensor.h"

#include "dlc/Import/Onnx.h"

#include "onnx/onnx_pb.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include <map>
#include <optional>
#include <string>

namespace mlir::dlc::onnximport {

/// NCHW -> NHWC and OIHW -> HWIO (dlc's HWCF).
inline constexpr int64_t kNHWC[] = {0, 2, 3, 1};
inline constexpr int64_t kHWCF[] = {2, 3, 1, 0};

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
  /// ai.onnx.preview.training Momentum or Adam (OnnxTraining.cpp).
  LogicalResult importTrainingOptimizer(NodeAttrs &a, bool isAdam);
  /// Input `i` (R, or with `isInt` T) of a training operator as an f32
  /// (i64) scalar.
  FailureOr<Value> scalarOperand(unsigned i, bool isInt);
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

inline std::string shapeStr(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (auto [i, d] : llvm::enumerate(shape))
    s += (i ? ", " : "") + std::to_string(d);
  return s + "]";
}

inline Shape dimsOf(Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  return Shape(type.getShape().begin(), type.getShape().end());
}

inline Shape permute(ArrayRef<int64_t> shape, ArrayRef<int64_t> perm) {
  Shape s;
  for (int64_t p : perm)
    s.push_back(shape[p]);
  return s;
}

} // namespace mlir::dlc::onnximport

#endif // DLC_LIB_IMPORT_ONNXIMPORTER_H
