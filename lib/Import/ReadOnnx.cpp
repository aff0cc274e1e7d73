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
// This file holds the graph (initializers, inputs, outputs), the operand
// and parameter helpers, the node dispatcher with constant folding, and the
// sidecar settings; OnnxOps.cpp the importer of each op.
//
// Every node the importer cannot map exactly is an error naming the node:
// "node 3 ('/conv1/Conv', Conv): ...". Nothing here asserts on input.
//
//===----------------------------------------------------------------------===//

#include "dlc/Import/Onnx.h"

#include "Document.h"
#include "ModelSpec.h"
#include "OnnxImporter.h"
#include "OnnxTensor.h"

#include "dlc/Dialect/DLC/IR/DLCDialect.h"
#include "dlc/Dialect/DLC/IR/DLCOps.h"
#include "dlc/Import/Import.h"

#include "onnx/onnx_pb.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
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

//===----------------------------------------------------------------------===//
// Operands and results
//===----------------------------------------------------------------------===//

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
    // Integer inputs of function mode: labels [N], or a scalar (the update
    // count T of a training operator). dlc holds them as i32.
    bool isLabels = options.functionMode &&
                    (v.elemType == onnx::TensorProto::INT64 ||
                     v.elemType == onnx::TensorProto::INT32) &&
                    v.shape.size() <= 1;
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
    SmallVector<int64_t, 4> perm =
        isLabels ? SmallVector<int64_t, 4>(Layout::identity(v.shape).perm)
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

LogicalResult OnnxImporter::importNode(const onnx::NodeProto &n) {
  node = &n;
  std::string name = n.name().empty() ? n.op_type() : n.name();
  loc = NameLoc::get(builder.getStringAttr(name), fileLoc);
  bool isTraining = n.domain() == "ai.onnx.preview.training";
  if (isTraining && n.op_type() != "Momentum" && n.op_type() != "Adam")
    return unsupported("the training operator " + n.op_type() +
                       " (ai.onnx.preview.training; dlc imports Momentum "
                       "and Adam)");
  if (!isTraining && !n.domain().empty() && n.domain() != "ai.onnx")
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
  if (isTraining)
    result = importTrainingOptimizer(attrs, /*isAdam=*/op == "Adam");
  else if (op == "Conv")
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
  context->loadDialect<DLCDialect, func::FuncDialect, arith::ArithDialect,
                       tensor::TensorDialect>();
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
