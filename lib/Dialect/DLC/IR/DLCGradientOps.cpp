//===- DLCGradientOps.cpp - dlc gradient ops: shape rules, verifiers ------===//
//
// The shape rules of the ops in DLCGradientOps.td. Each gradient op checks
// that the forward op it differentiates would have produced `output_grad`'s
// type, with the helpers of DLCShapeRules.h, so its errors read like those
// of the forward op.
//
//===----------------------------------------------------------------------===//

#include "DLCShapeRules.h"

using namespace mlir;
using namespace mlir::dlc;
using namespace mlir::dlc::detail;

/// A shape given as an attribute (the input of a gradient op), checked to
/// be a positive `rank`-D shape.
static FailureOr<RankedTensorType> shapeAttrType(const OpDiag &diag,
                                                 StringRef name,
                                                 ArrayRef<int64_t> shape,
                                                 int64_t rank, Type element) {
  if (static_cast<int64_t>(shape.size()) != rank ||
      llvm::any_of(shape, [](int64_t d) { return d <= 0; }))
    return diag() << name << " " << formatList(shape) << " must have " << rank
                  << " positive sizes";
  return RankedTensorType::get(shape, element);
}

LogicalResult Conv2DGradInputOp::inferReturnTypes(
    MLIRContext *ctx, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  OpDiag diag(loc, getOperationName());
  RankedTensorType dy = rankedOf(adaptor.getOutputGrad(), 4);
  if (!dy)
    return diag() << "expects a 4D output_grad";
  FailureOr<RankedTensorType> input = shapeAttrType(
      diag, "input_shape", adaptor.getInputShape(), 4, dy.getElementType());
  if (failed(input))
    return failure();
  SmallVector<Type> forward;
  if (failed(inferConv2D(diag, *input, rankedOf(adaptor.getFilter()), {},
                         adaptor.getStrides(), adaptor.getDilations(),
                         adaptor.getPadding(), adaptor.getPads(),
                         adaptor.getGroups(), forward)) ||
      failed(checkOutputGrad(diag, forward[0], adaptor.getOutputGrad())))
    return failure();
  types.push_back(*input);
  return success();
}

SmallVector<int64_t, 4> Conv2DGradInputOp::getResolvedPads() {
  auto input = RankedTensorType::get(
      getInputShape(), getOutputGrad().getType().getElementType());
  return resolvePads(input, getFilter().getType().getShape().take_front(2),
                     getStrides(), getDilations(), getPadding(), getPads());
}

LogicalResult Conv2DGradFilterOp::inferReturnTypes(
    MLIRContext *ctx, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  OpDiag diag(loc, getOperationName());
  RankedTensorType input = rankedOf(adaptor.getInput(), 4);
  RankedTensorType dy = rankedOf(adaptor.getOutputGrad(), 4);
  if (!input || !dy)
    return diag() << "expects a 4D input and a 4D output_grad";
  ArrayRef<int64_t> kernel = adaptor.getKernelSize();
  int64_t groups = adaptor.getGroups();
  if (failed(checkPositive(diag, "kernel_size", kernel)))
    return failure();
  if (groups < 1)
    return diag() << "groups must be positive, got " << groups;
  auto filter = RankedTensorType::get(
      {kernel[0], kernel[1], input.getDimSize(3) / groups, dy.getDimSize(3)},
      input.getElementType());
  SmallVector<Type> forward;
  if (failed(inferConv2D(diag, input, filter, {}, adaptor.getStrides(),
                         adaptor.getDilations(), adaptor.getPadding(),
                         adaptor.getPads(), groups, forward)) ||
      failed(checkOutputGrad(diag, forward[0], adaptor.getOutputGrad())))
    return failure();
  types.push_back(filter);
  return success();
}

SmallVector<int64_t, 4> Conv2DGradFilterOp::getResolvedPads() {
  return resolvePads(getInput().getType(), getKernelSize(), getStrides(),
                     getDilations(), getPadding(), getPads());
}

LogicalResult MatmulOp::inferReturnTypes(MLIRContext *ctx,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  OpDiag diag(loc, getOperationName());
  RankedTensorType lhs = rankedOf(adaptor.getLhs(), 2);
  RankedTensorType rhs = rankedOf(adaptor.getRhs(), 2);
  if (!lhs || !rhs)
    return diag() << "expects 2D operands";
  bool tl = adaptor.getTransposeLhs(), tr = adaptor.getTransposeRhs();
  int64_t m = lhs.getDimSize(tl ? 1 : 0), kl = lhs.getDimSize(tl ? 0 : 1);
  int64_t kr = rhs.getDimSize(tr ? 1 : 0), n = rhs.getDimSize(tr ? 0 : 1);
  if (kl != kr)
    return diag() << "contracts " << kl << " columns of the lhs with " << kr
                  << " rows of the rhs";
  types.push_back(RankedTensorType::get({m, n}, lhs.getElementType()));
  return success();
}

LogicalResult ChannelSumOp::inferReturnTypes(MLIRContext *ctx,
                                             std::optional<Location> loc,
                                             Adaptor adaptor,
                                             SmallVectorImpl<Type> &types) {
  RankedTensorType input = rankedOf(adaptor.getInput());
  if (!input || input.getRank() < 1)
    return OpDiag(loc, getOperationName())()
           << "input must have a channel dimension";
  types.push_back(
      RankedTensorType::get({input.getShape().back()}, input.getElementType()));
  return success();
}

LogicalResult MaxPool2DGradOp::inferReturnTypes(MLIRContext *ctx,
                                                std::optional<Location> loc,
                                                Adaptor adaptor,
                                                SmallVectorImpl<Type> &types) {
  OpDiag diag(loc, getOperationName());
  SmallVector<Type> forward;
  if (failed(inferPool2D(diag, adaptor, forward)) ||
      failed(checkOutputGrad(diag, forward[0], adaptor.getOutputGrad())))
    return failure();
  types.push_back(adaptor.getInput().getType());
  return success();
}

SmallVector<int64_t, 4> MaxPool2DGradOp::getResolvedPads() {
  int64_t ones[] = {1, 1};
  return resolvePads(getInput().getType(), getPoolSize(), getStrides(), ones,
                     getPadding(), getPads());
}

LogicalResult AvgPool2DGradOp::inferReturnTypes(MLIRContext *ctx,
                                                std::optional<Location> loc,
                                                Adaptor adaptor,
                                                SmallVectorImpl<Type> &types) {
  OpDiag diag(loc, getOperationName());
  RankedTensorType dy = rankedOf(adaptor.getOutputGrad(), 4);
  if (!dy)
    return diag() << "expects a 4D output_grad";
  FailureOr<RankedTensorType> input = shapeAttrType(
      diag, "input_shape", adaptor.getInputShape(), 4, dy.getElementType());
  if (failed(input))
    return failure();
  SmallVector<Type> forward;
  if (failed(inferPool2DOn(diag, *input, adaptor.getPoolSize(),
                           adaptor.getStrides(), adaptor.getPadding(),
                           getPadsOrZeros(adaptor), forward)) ||
      failed(checkOutputGrad(diag, forward[0], adaptor.getOutputGrad())))
    return failure();
  types.push_back(*input);
  return success();
}

SmallVector<int64_t, 4> AvgPool2DGradOp::getResolvedPads() {
  int64_t ones[] = {1, 1};
  auto input = RankedTensorType::get(
      getInputShape(), getOutputGrad().getType().getElementType());
  return resolvePads(input, getPoolSize(), getStrides(), ones, getPadding(),
                     getPads());
}

LogicalResult GlobalAvgPoolGradOp::inferReturnTypes(
    MLIRContext *ctx, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  OpDiag diag(loc, getOperationName());
  RankedTensorType dy = rankedOf(adaptor.getOutputGrad(), 2);
  if (!dy)
    return diag() << "expects a 2D output_grad";
  FailureOr<RankedTensorType> input = shapeAttrType(
      diag, "input_shape", adaptor.getInputShape(), 4, dy.getElementType());
  if (failed(input))
    return failure();
  Type forward = RankedTensorType::get(
      {input->getDimSize(0), input->getDimSize(3)}, dy.getElementType());
  if (failed(checkOutputGrad(diag, forward, adaptor.getOutputGrad())))
    return failure();
  types.push_back(*input);
  return success();
}

LogicalResult BatchNormGradOp::inferReturnTypes(MLIRContext *ctx,
                                                std::optional<Location> loc,
                                                Adaptor adaptor,
                                                SmallVectorImpl<Type> &types) {
  OpDiag diag(loc, getOperationName());
  StringRef names[] = {"gamma", "mean", "variance"};
  Value vectors[] = {adaptor.getGamma(), adaptor.getMean(),
                     adaptor.getVariance()};
  FailureOr<int64_t> channels = checkBatchNorm(diag, adaptor, vectors, names);
  if (failed(channels))
    return failure();
  Type input = adaptor.getInput().getType();
  if (failed(checkOutputGrad(diag, input, adaptor.getOutputGrad())))
    return failure();
  Type vector = RankedTensorType::get({*channels},
                                      cast<ShapedType>(input).getElementType());
  types.append({input, vector, vector});
  return success();
}

LogicalResult SoftmaxCrossEntropyGradOp::inferReturnTypes(
    MLIRContext *ctx, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  if (failed(checkLogitsAndLabels(OpDiag(loc, getOperationName()),
                                  adaptor.getLogits(), adaptor.getLabels())))
    return failure();
  types.push_back(adaptor.getLogits().getType());
  return success();
}

LogicalResult MseGradOp::inferReturnTypes(MLIRContext *ctx,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  SmallVector<Type> loss;
  if (failed(inferElementwiseLoss(OpDiag(loc, getOperationName()), ctx,
                                  adaptor.getPredictions(),
                                  adaptor.getTargets(), loss)))
    return failure();
  types.push_back(adaptor.getPredictions().getType());
  return success();
}

LogicalResult BinaryCrossEntropyGradOp::inferReturnTypes(
    MLIRContext *ctx, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  SmallVector<Type> loss;
  if (failed(inferElementwiseLoss(OpDiag(loc, getOperationName()), ctx,
                                  adaptor.getPredictions(),
                                  adaptor.getTargets(), loss)))
    return failure();
  types.push_back(adaptor.getPredictions().getType());
  return success();
}

LogicalResult SoftmaxGradOp::verify() {
  return checkAxis(OpDiag(getLoc(), getOperationName()), getAxis(),
                   getOutput().getType().getRank(), "an input");
}

LogicalResult LeakyReluGradOp::verify() {
  return checkAlpha(*this, getAlpha());
}
