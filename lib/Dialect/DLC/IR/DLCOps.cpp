//===- DLCOps.cpp - dlc layer ops: shape rules and verifiers --------------===//
//
// Each shaped op has one function that checks its operands and attributes and
// computes its result types. The verifier calls it with diagnostics enabled;
// `inferReturnTypes` calls it too, so builders, the importer and the
// verifier can never disagree on a shape. Diagnostics are emitted only when
// a location is given, so callers that merely probe a shape stay silent.
//
// This file holds the layer ops of DLCOps.td and the shape-rule helpers
// that the other op families share (declared in DLCShapeRules.h); the ops of
// DLCGradientOps.td, DLCOptimizerOps.td and DLCFusedOps.td have their own
// files. All the ops are one tablegen unit: their generated definitions are
// included once, at the end of this file.
//
//===----------------------------------------------------------------------===//

#include "DLCShapeRules.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

#include <cmath>

using namespace mlir;
using namespace mlir::dlc;
using namespace mlir::dlc::detail;

//===----------------------------------------------------------------------===//
// Shape rules shared with the importer and the lowerings
//===----------------------------------------------------------------------===//

int64_t mlir::dlc::computeWindowOutputSize(int64_t input, int64_t kernel,
                                           int64_t stride, int64_t dilation,
                                           PaddingMode mode, int64_t padBefore,
                                           int64_t padAfter) {
  int64_t window = effectiveKernelSize(kernel, dilation);
  switch (mode) {
  case PaddingMode::same:
    // TensorFlow: ceil(in / stride), whatever the window.
    return (input + stride - 1) / stride;
  case PaddingMode::valid:
    padBefore = padAfter = 0;
    [[fallthrough]];
  case PaddingMode::explicit_: {
    int64_t padded = input + padBefore + padAfter;
    if (padded < window)
      return 0;
    return (padded - window) / stride + 1;
  }
  }
  llvm_unreachable("unknown padding mode");
}

std::pair<int64_t, int64_t> mlir::dlc::computeSamePadding(int64_t input,
                                                          int64_t kernel,
                                                          int64_t stride,
                                                          int64_t dilation) {
  int64_t output = (input + stride - 1) / stride;
  int64_t total = std::max<int64_t>(
      (output - 1) * stride + effectiveKernelSize(kernel, dilation) - input, 0);
  return {total / 2, total - total / 2};
}

FailureOr<Operation *>
mlir::dlc::createWithInferredTypes(OpBuilder &builder, OperationState &state) {
  MLIRContext *ctx = builder.getContext();
  // Probe on a detached, result-less copy: creating it moves the inherent
  // attributes into the op's properties exactly as for the final op, which
  // the shape rule's adaptor reads.
  Operation *probe = Operation::create(
      state.location, state.name, /*resultTypes=*/{}, state.operands,
      state.attributes.getDictionary(ctx), /*properties=*/nullptr,
      /*successors=*/{}, /*numRegions=*/0);
  auto iface = dyn_cast<InferTypeOpInterface>(probe);
  SmallVector<Type> types;
  LogicalResult inferred =
      iface ? iface.inferReturnTypes(ctx, state.location, probe->getOperands(),
                                     probe->getRawDictionaryAttrs(),
                                     probe->getPropertiesStorage(),
                                     probe->getRegions(), types)
            : failure();
  probe->destroy();
  if (!iface)
    return mlir::emitError(state.location)
           << "'" << state.name << "' does not infer its result types";
  if (failed(inferred))
    return failure();
  state.types.assign(types.begin(), types.end());
  return builder.create(state);
}

//===----------------------------------------------------------------------===//
// The ShapeRuleVerified trait (DLCOps.h)
//===----------------------------------------------------------------------===//

LogicalResult
mlir::dlc::detail::verifyResultTypesMatch(Operation *op,
                                          ArrayRef<Type> inferred) {
  for (auto [i, declared, rule] :
       llvm::enumerate(op->getResultTypes(), inferred))
    if (declared != rule)
      return op->emitOpError("result #")
             << i << " has type " << declared << " but the shape rule gives "
             << rule;
  return success();
}

//===----------------------------------------------------------------------===//
// Shape-rule helpers shared by the op files (DLCShapeRules.h)
//===----------------------------------------------------------------------===//

namespace mlir::dlc::detail {

/// Prints a shape the way MLIR prints tensor types: 8x28x28x1.
std::string formatShape(ArrayRef<int64_t> shape) {
  std::string s;
  llvm::raw_string_ostream os(s);
  llvm::interleave(shape, os, "x");
  return s;
}

/// Prints an integer list as [a, b, c].
std::string formatList(ArrayRef<int64_t> values) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "[";
  llvm::interleaveComma(values, os);
  os << "]";
  return s;
}

/// The ranked type of `v`, or null. Ops are only verified after their ODS
/// type constraints hold, but builders may probe with anything.
RankedTensorType rankedOf(Value v, int64_t rank) {
  auto type = dyn_cast_or_null<RankedTensorType>(v ? v.getType() : Type());
  if (!type || (rank >= 0 && type.getRank() != rank))
    return {};
  return type;
}

LogicalResult checkPositive(const OpDiag &diag, StringRef name,
                            ArrayRef<int64_t> values) {
  if (llvm::all_of(values, [](int64_t v) { return v > 0; }))
    return success();
  return diag() << name << " must be positive, got " << formatList(values);
}

/// Checks a per-channel vector operand against the channel count.
LogicalResult checkChannelVector(const OpDiag &diag, StringRef name, Value v,
                                 int64_t channels, StringRef what) {
  RankedTensorType type = rankedOf(v, 1);
  if (!type)
    return diag() << name << " must be a 1D tensor";
  if (type.getDimSize(0) != channels)
    return diag() << name << " has " << type.getDimSize(0)
                  << " elements but the input has " << channels << " " << what;
  return success();
}

/// Resolves the [top, bottom, left, right] padding of a window op.
SmallVector<int64_t, 4>
resolvePads(RankedTensorType input, ArrayRef<int64_t> kernel,
            ArrayRef<int64_t> strides, ArrayRef<int64_t> dilations,
            PaddingMode mode, ArrayRef<int64_t> explicitPads) {
  switch (mode) {
  case PaddingMode::valid:
    return {0, 0, 0, 0};
  case PaddingMode::explicit_:
    return SmallVector<int64_t, 4>(explicitPads);
  case PaddingMode::same: {
    auto [top, bottom] = computeSamePadding(input.getDimSize(1), kernel[0],
                                            strides[0], dilations[0]);
    auto [left, right] = computeSamePadding(input.getDimSize(2), kernel[1],
                                            strides[1], dilations[1]);
    return {top, bottom, left, right};
  }
  }
  llvm_unreachable("unknown padding mode");
}

/// Computes the [H, W] output of a 2-D window op, or fails with a message.
static FailureOr<std::pair<int64_t, int64_t>>
inferWindowOutput(const OpDiag &diag, StringRef windowName,
                  RankedTensorType input, ArrayRef<int64_t> kernel,
                  ArrayRef<int64_t> strides, ArrayRef<int64_t> dilations,
                  PaddingMode mode, ArrayRef<int64_t> pads) {
  int64_t h = input.getDimSize(1), w = input.getDimSize(2);
  int64_t oh = computeWindowOutputSize(h, kernel[0], strides[0], dilations[0],
                                       mode, pads[0], pads[1]);
  int64_t ow = computeWindowOutputSize(w, kernel[1], strides[1], dilations[1],
                                       mode, pads[2], pads[3]);
  if (oh <= 0 || ow <= 0) {
    int64_t kh = effectiveKernelSize(kernel[0], dilations[0]);
    int64_t kw = effectiveKernelSize(kernel[1], dilations[1]);
    return diag() << windowName << " (" << kh << "x" << kw
                  << ") is larger than the "
                  << (mode == PaddingMode::explicit_ ? "padded input ("
                                                     : "input (")
                  << (h + pads[0] + pads[1]) << "x" << (w + pads[2] + pads[3])
                  << ")";
  }
  return std::make_pair(oh, ow);
}

LogicalResult checkAxis(const OpDiag &diag, int64_t axis, int64_t rank,
                        StringRef what) {
  if (axis >= -rank && axis < rank)
    return success();
  return diag() << "axis " << axis << " is out of range for " << what
                << " of rank " << rank;
}

/// Checks a (predictions, targets) loss pair of one shape.
LogicalResult inferElementwiseLoss(const OpDiag &diag, MLIRContext *ctx,
                                   Value predictions, Value targets,
                                   SmallVectorImpl<Type> &types) {
  RankedTensorType p = rankedOf(predictions), t = rankedOf(targets);
  if (!p || !t)
    return diag() << "expects ranked tensors";
  if (p.getShape() != t.getShape())
    return diag() << "targets shape (" << formatShape(t.getShape())
                  << ") differs from predictions shape ("
                  << formatShape(p.getShape()) << ")";
  types.push_back(RankedTensorType::get({}, Float32Type::get(ctx)));
  return success();
}

/// Checks a (logits [N, K], labels [N]) pair of a classification op.
LogicalResult checkLogitsAndLabels(const OpDiag &diag, Value logits,
                                   Value labels) {
  RankedTensorType l = rankedOf(logits, 2), y = rankedOf(labels, 1);
  if (!l || !y)
    return diag() << "expects logits [N, K] and labels [N]";
  if (l.getDimSize(0) != y.getDimSize(0))
    return diag() << "labels have " << y.getDimSize(0)
                  << " entries but logits have a batch of " << l.getDimSize(0);
  if (l.getDimSize(1) < 1)
    return diag() << "logits must have at least one class";
  return success();
}

/// Checks that `forward` (the result a forward op would have) matches the
/// given output gradient.
LogicalResult checkOutputGrad(const OpDiag &diag, Type forward,
                              Value outputGrad) {
  if (forward == outputGrad.getType())
    return success();
  return diag() << "output_grad has type " << outputGrad.getType()
                << " but the forward op produces " << forward;
}

/// Keras rejects negative slopes; so does dlc, forward and backward.
LogicalResult checkAlpha(Operation *op, APFloat alphaAttr) {
  float alpha = alphaAttr.convertToFloat();
  if (!(alpha >= 0.0f) || std::isinf(alpha))
    return op->emitOpError("alpha must be a finite non-negative number, got ")
           << alpha;
  return success();
}

LogicalResult inferConv2D(const OpDiag &diag, RankedTensorType input,
                          RankedTensorType filter, RankedTensorType bias,
                          ArrayRef<int64_t> strides,
                          ArrayRef<int64_t> dilations, PaddingMode mode,
                          ArrayRef<int64_t> pads, int64_t groups,
                          SmallVectorImpl<Type> &types) {
  if (!input || !filter || input.getRank() != 4 || filter.getRank() != 4)
    return diag() << "expects a 4D input and a 4D filter";
  if (strides.size() != 2 || dilations.size() != 2)
    return diag() << "strides and dilations must have 2 entries [h, w]";
  if (failed(checkPositive(diag, "strides", strides)) ||
      failed(checkPositive(diag, "dilations", dilations)))
    return failure();
  if (groups < 1)
    return diag() << "groups must be positive, got " << groups;
  if (pads.size() != 4)
    return diag() << "pads must have 4 entries [top, bottom, left, right], got "
                  << pads.size();
  if (llvm::any_of(pads, [](int64_t p) { return p < 0; }))
    return diag() << "pads must be non-negative, got " << formatList(pads);
  if (mode != PaddingMode::explicit_ &&
      llvm::any_of(pads, [](int64_t p) { return p != 0; }))
    return diag() << "pads " << formatList(pads)
                  << " require explicit padding, not "
                  << stringifyPaddingMode(mode);

  int64_t channels = input.getDimSize(3);
  int64_t filters = filter.getDimSize(3);
  if (channels % groups != 0)
    return diag() << "input channels (" << channels
                  << ") must be divisible by groups (" << groups << ")";
  if (filters % groups != 0)
    return diag() << "filters (" << filters << ") must be divisible by groups ("
                  << groups << ")";
  if (filter.getDimSize(2) != channels / groups)
    return diag() << "filter expects " << filter.getDimSize(2)
                  << " input channels per group but the input has " << channels
                  << " channels in " << groups << " group(s)";
  if (bias && (bias.getRank() != 1 || bias.getDimSize(0) != filters))
    return diag() << "bias must have " << filters
                  << " elements, one per filter";
  auto out = inferWindowOutput(diag, "dilated kernel", input,
                               filter.getShape().take_front(2), strides,
                               dilations, mode, pads);
  if (failed(out))
    return failure();
  types.push_back(RankedTensorType::get(
      {input.getDimSize(0), out->first, out->second, filters},
      input.getElementType()));
  return success();
}

LogicalResult inferPool2DOn(const OpDiag &diag, RankedTensorType input,
                            ArrayRef<int64_t> poolSize,
                            ArrayRef<int64_t> strides, PaddingMode mode,
                            ArrayRef<int64_t> pads,
                            SmallVectorImpl<Type> &types) {
  if (!input || input.getRank() != 4)
    return diag() << "expects a 4D input";
  if (poolSize.size() != 2 || strides.size() != 2)
    return diag() << "pool_size and strides must have 2 entries [h, w]";
  if (failed(checkPositive(diag, "pool_size", poolSize)) ||
      failed(checkPositive(diag, "strides", strides)))
    return failure();
  if (pads.size() != 4)
    return diag() << "pads must have 4 entries [top, bottom, left, right], got "
                  << pads.size();
  if (mode != PaddingMode::explicit_ &&
      llvm::any_of(pads, [](int64_t p) { return p != 0; }))
    return diag() << "pads " << formatList(pads)
                  << " require explicit padding, not "
                  << stringifyPaddingMode(mode);
  // A window wholly in the padding would have no input to take.
  for (int i = 0; i < 4; ++i)
    if (pads[i] < 0 || pads[i] >= poolSize[i / 2])
      return diag() << "pads must be non-negative and smaller than the pool "
                       "window ("
                    << formatList(poolSize) << "), got " << formatList(pads);
  int64_t ones[] = {1, 1};
  auto out = inferWindowOutput(diag, "pool window", input, poolSize, strides,
                               ones, mode, pads);
  if (failed(out))
    return failure();
  types.push_back(RankedTensorType::get(
      {input.getDimSize(0), out->first, out->second, input.getDimSize(3)},
      input.getElementType()));
  return success();
}

} // namespace mlir::dlc::detail

//===----------------------------------------------------------------------===//
// Conv2DOp
//===----------------------------------------------------------------------===//

LogicalResult Conv2DOp::inferReturnTypes(MLIRContext *ctx,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  return inferConv2D(
      OpDiag(loc, getOperationName()), rankedOf(adaptor.getInput()),
      rankedOf(adaptor.getFilter()), rankedOf(adaptor.getBias()),
      adaptor.getStrides(), adaptor.getDilations(), adaptor.getPadding(),
      adaptor.getPads(), adaptor.getGroups(), types);
}

SmallVector<int64_t, 4> Conv2DOp::getResolvedPads() {
  return resolvePads(getInput().getType(),
                     getFilter().getType().getShape().take_front(2),
                     getStrides(), getDilations(), getPadding(), getPads());
}

//===----------------------------------------------------------------------===//
// DenseOp, BiasAddOp
//===----------------------------------------------------------------------===//

LogicalResult DenseOp::inferReturnTypes(MLIRContext *ctx,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  OpDiag diag(loc, getOperationName());
  RankedTensorType input = rankedOf(adaptor.getInput(), 2);
  RankedTensorType kernel = rankedOf(adaptor.getKernel(), 2);
  if (!input || !kernel)
    return diag() << "expects a 2D input and a 2D kernel";
  if (input.getDimSize(1) != kernel.getDimSize(0))
    return diag() << "input has " << input.getDimSize(1)
                  << " features but the kernel expects "
                  << kernel.getDimSize(0);
  int64_t units = kernel.getDimSize(1);
  if (Value bias = adaptor.getBias()) {
    RankedTensorType b = rankedOf(bias, 1);
    if (!b || b.getDimSize(0) != units)
      return diag() << "bias must have " << units << " elements, one per unit";
  }
  types.push_back(RankedTensorType::get({input.getDimSize(0), units},
                                        input.getElementType()));
  return success();
}

LogicalResult BiasAddOp::inferReturnTypes(MLIRContext *ctx,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  OpDiag diag(loc, getOperationName());
  RankedTensorType input = rankedOf(adaptor.getInput());
  if (!input || input.getRank() < 1)
    return diag() << "input must have a channel dimension";
  if (failed(checkChannelVector(diag, "bias", adaptor.getBias(),
                                input.getShape().back(), "channels")))
    return failure();
  types.push_back(input);
  return success();
}

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

LogicalResult LeakyReluOp::verify() { return checkAlpha(*this, getAlpha()); }

LogicalResult SoftmaxOp::verify() {
  return checkAxis(OpDiag(getLoc(), getOperationName()), getAxis(),
                   getInput().getType().getRank(), "an input");
}

//===----------------------------------------------------------------------===//
// Pooling and reshaping
//===----------------------------------------------------------------------===//

LogicalResult MaxPool2DOp::inferReturnTypes(MLIRContext *ctx,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  return inferPool2D(OpDiag(loc, getOperationName()), adaptor, types);
}

SmallVector<int64_t, 4> MaxPool2DOp::getResolvedPads() {
  int64_t ones[] = {1, 1};
  return resolvePads(getInput().getType(), getPoolSize(), getStrides(), ones,
                     getPadding(), getPads());
}

LogicalResult AvgPool2DOp::inferReturnTypes(MLIRContext *ctx,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  return inferPool2D(OpDiag(loc, getOperationName()), adaptor, types);
}

SmallVector<int64_t, 4> AvgPool2DOp::getResolvedPads() {
  int64_t ones[] = {1, 1};
  return resolvePads(getInput().getType(), getPoolSize(), getStrides(), ones,
                     getPadding(), getPads());
}

LogicalResult GlobalAvgPoolOp::inferReturnTypes(MLIRContext *ctx,
                                                std::optional<Location> loc,
                                                Adaptor adaptor,
                                                SmallVectorImpl<Type> &types) {
  RankedTensorType input = rankedOf(adaptor.getInput(), 4);
  if (!input)
    return OpDiag(loc, getOperationName())() << "expects a 4D input";
  types.push_back(RankedTensorType::get(
      {input.getDimSize(0), input.getDimSize(3)}, input.getElementType()));
  return success();
}

LogicalResult FlattenOp::inferReturnTypes(MLIRContext *ctx,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  RankedTensorType input = rankedOf(adaptor.getInput());
  if (!input || input.getRank() < 1)
    return OpDiag(loc, getOperationName())()
           << "input must have a batch dimension";
  int64_t features = 1;
  for (int64_t d : input.getShape().drop_front())
    features *= d;
  types.push_back(RankedTensorType::get({input.getDimSize(0), features},
                                        input.getElementType()));
  return success();
}

LogicalResult ReshapeOp::inferReturnTypes(MLIRContext *ctx,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  OpDiag diag(loc, getOperationName());
  RankedTensorType input = rankedOf(adaptor.getInput());
  if (!input)
    return diag() << "expects a ranked input";
  SmallVector<int64_t> shape(adaptor.getShape());
  int64_t known = 1, inferredAt = -1;
  for (auto [i, d] : llvm::enumerate(shape)) {
    if (d == -1) {
      if (inferredAt >= 0)
        return diag() << "shape " << formatList(shape)
                      << " may contain at most one -1";
      inferredAt = i;
      continue;
    }
    if (d <= 0)
      return diag() << "shape " << formatList(shape)
                    << " must have positive sizes (or one -1)";
    known *= d;
  }
  int64_t elements = input.getNumElements();
  if (inferredAt >= 0) {
    if (elements % known != 0)
      return diag() << "cannot reshape " << elements << " elements into shape "
                    << formatList(shape);
    shape[inferredAt] = elements / known;
  } else if (known != elements) {
    return diag() << "cannot reshape " << elements << " elements into shape "
                  << formatList(shape) << " (" << known << " elements)";
  }
  types.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// ConcatOp
//===----------------------------------------------------------------------===//

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *ctx,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  OpDiag diag(loc, getOperationName());
  ValueRange inputs = adaptor.getInputs();
  if (inputs.empty())
    return diag() << "requires at least one input";
  RankedTensorType first = rankedOf(inputs.front());
  if (!first)
    return diag() << "expects ranked inputs";
  int64_t rank = first.getRank();
  int64_t axis = adaptor.getAxis();
  if (failed(checkAxis(diag, axis, rank, "inputs")))
    return failure();
  if (axis < 0)
    axis += rank;
  SmallVector<int64_t> shape(first.getShape());
  for (auto [i, v] : llvm::enumerate(inputs.drop_front())) {
    RankedTensorType type = rankedOf(v);
    if (!type || type.getRank() != rank)
      return diag() << "input #" << i + 1 << " has rank "
                    << (type ? type.getRank() : -1) << " but input #0 has rank "
                    << rank;
    for (int64_t d = 0; d < rank; ++d) {
      if (d == axis)
        continue;
      if (type.getDimSize(d) != first.getDimSize(d))
        return diag() << "input #" << i + 1 << " has shape "
                      << formatShape(type.getShape())
                      << ", which differs from input #0 ("
                      << formatShape(first.getShape())
                      << ") outside the concatenation axis " << axis;
    }
    shape[axis] += type.getDimSize(axis);
  }
  types.push_back(RankedTensorType::get(shape, first.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// DropoutOp, BatchNormOp, BatchNormTrainOp
//===----------------------------------------------------------------------===//

LogicalResult DropoutOp::inferReturnTypes(MLIRContext *ctx,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  float rate = adaptor.getRate().convertToFloat();
  if (!(rate >= 0.0f && rate < 1.0f))
    return OpDiag(loc, getOperationName())()
           << "rate must be in [0, 1), got " << rate;
  types.push_back(adaptor.getInput().getType());
  return success();
}

// Without a key (inference) or with rate 0, dropout is the identity.
OpFoldResult DropoutOp::fold(FoldAdaptor) {
  if (!getKey() || getRate().isZero())
    return getInput();
  return {};
}

LogicalResult BatchNormOp::inferReturnTypes(MLIRContext *ctx,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  StringRef names[] = {"gamma", "beta", "mean", "variance"};
  Value vectors[] = {adaptor.getGamma(), adaptor.getBeta(), adaptor.getMean(),
                     adaptor.getVariance()};
  if (failed(checkBatchNorm(OpDiag(loc, getOperationName()), adaptor, vectors,
                            names)))
    return failure();
  types.push_back(adaptor.getInput().getType());
  return success();
}

LogicalResult BatchNormTrainOp::inferReturnTypes(MLIRContext *ctx,
                                                 std::optional<Location> loc,
                                                 Adaptor adaptor,
                                                 SmallVectorImpl<Type> &types) {
  OpDiag diag(loc, getOperationName());
  StringRef names[] = {"gamma", "beta", "running_mean", "running_variance"};
  Value vectors[] = {adaptor.getGamma(), adaptor.getBeta(),
                     adaptor.getRunningMean(), adaptor.getRunningVariance()};
  FailureOr<int64_t> channels = checkBatchNorm(diag, adaptor, vectors, names);
  if (failed(channels))
    return failure();
  float momentum = adaptor.getMomentum().convertToFloat();
  if (!(momentum >= 0.0f && momentum <= 1.0f))
    return diag() << "momentum must be in [0, 1], got " << momentum;
  Type input = adaptor.getInput().getType();
  Type vector = RankedTensorType::get({*channels},
                                      cast<ShapedType>(input).getElementType());
  types.append({input, vector, vector, vector, vector});
  return success();
}

//===----------------------------------------------------------------------===//
// Data augmentation
//===----------------------------------------------------------------------===//

LogicalResult RandomFlipOp::inferReturnTypes(MLIRContext *ctx,
                                             std::optional<Location> loc,
                                             Adaptor adaptor,
                                             SmallVectorImpl<Type> &types) {
  types.push_back(adaptor.getInput().getType());
  return success();
}

// Augmentation is active in training only: keyless, it is the identity.
OpFoldResult RandomFlipOp::fold(FoldAdaptor) {
  return getKey() ? OpFoldResult() : OpFoldResult(getInput());
}

/// Checks the [lower, upper] factors of random_translation.
static LogicalResult checkFactor(const OpDiag &diag, StringRef name,
                                 ArrayRef<float> factor) {
  if (factor.size() != 2)
    return diag() << name << " must be [lower, upper], got " << factor.size()
                  << " values";
  if (factor[0] < -1.0f || factor[1] > 1.0f || factor[0] > factor[1])
    return diag() << name << " [" << factor[0] << ", " << factor[1]
                  << "] must satisfy -1 <= lower <= upper <= 1";
  return success();
}

LogicalResult RandomTranslationOp::inferReturnTypes(
    MLIRContext *ctx, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  OpDiag diag(loc, getOperationName());
  if (failed(checkFactor(diag, "height_factor", adaptor.getHeightFactor())) ||
      failed(checkFactor(diag, "width_factor", adaptor.getWidthFactor())))
    return failure();
  types.push_back(adaptor.getInput().getType());
  return success();
}

OpFoldResult RandomTranslationOp::fold(FoldAdaptor) {
  return getKey() ? OpFoldResult() : OpFoldResult(getInput());
}

LogicalResult RandomCropOp::inferReturnTypes(MLIRContext *ctx,
                                             std::optional<Location> loc,
                                             Adaptor adaptor,
                                             SmallVectorImpl<Type> &types) {
  OpDiag diag(loc, getOperationName());
  RankedTensorType input = rankedOf(adaptor.getInput(), 4);
  if (!input)
    return diag() << "expects a 4D input";
  int64_t height = adaptor.getHeight(), width = adaptor.getWidth();
  if (height <= 0 || width <= 0)
    return diag() << "crop size " << height << "x" << width
                  << " must be positive";
  if (height > input.getDimSize(1) || width > input.getDimSize(2))
    return diag() << "crop size " << height << "x" << width
                  << " is larger than the input (" << input.getDimSize(1) << "x"
                  << input.getDimSize(2) << ")";
  types.push_back(RankedTensorType::get(
      {input.getDimSize(0), height, width, input.getDimSize(3)},
      input.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// Losses and metrics
//===----------------------------------------------------------------------===//

LogicalResult SoftmaxCrossEntropyOp::inferReturnTypes(
    MLIRContext *ctx, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  if (failed(checkLogitsAndLabels(OpDiag(loc, getOperationName()),
                                  adaptor.getLogits(), adaptor.getLabels())))
    return failure();
  types.push_back(RankedTensorType::get({}, Float32Type::get(ctx)));
  return success();
}

LogicalResult MseOp::inferReturnTypes(MLIRContext *ctx,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &types) {
  return inferElementwiseLoss(OpDiag(loc, getOperationName()), ctx,
                              adaptor.getPredictions(), adaptor.getTargets(),
                              types);
}

LogicalResult BinaryCrossEntropyOp::inferReturnTypes(
    MLIRContext *ctx, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  return inferElementwiseLoss(OpDiag(loc, getOperationName()), ctx,
                              adaptor.getPredictions(), adaptor.getTargets(),
                              types);
}

LogicalResult AccuracyOp::inferReturnTypes(MLIRContext *ctx,
                                           std::optional<Location> loc,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &types) {
  if (failed(checkLogitsAndLabels(OpDiag(loc, getOperationName()),
                                  adaptor.getLogits(), adaptor.getLabels())))
    return failure();
  types.push_back(RankedTensorType::get({}, IntegerType::get(ctx, 32)));
  return success();
}

#include "dlc/Dialect/DLC/IR/DLCInterfaces.cpp.inc"

#define GET_OP_CLASSES
#include "dlc/Dialect/DLC/IR/DLCOps.cpp.inc"
