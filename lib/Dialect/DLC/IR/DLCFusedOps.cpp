//===- DLCFusedOps.cpp - dlc fused ops: shape rules and verifiers ---------===//
//
// The shape rules of the ops in DLCFusedOps.td. A fused op checks its
// operands with the rules of the ops it replaces (DLCShapeRules.h), so a
// fused chain reports the same errors as the unfused one.
//
//===----------------------------------------------------------------------===//

#include "DLCShapeRules.h"

using namespace mlir;
using namespace mlir::dlc;
using namespace mlir::dlc::detail;

LogicalResult Conv2DBnStatsOp::inferReturnTypes(MLIRContext *ctx,
                                                std::optional<Location> loc,
                                                Adaptor adaptor,
                                                SmallVectorImpl<Type> &types) {
  if (failed(inferConv2D(
          OpDiag(loc, getOperationName()), rankedOf(adaptor.getInput()),
          rankedOf(adaptor.getFilter()), rankedOf(adaptor.getBias()),
          adaptor.getStrides(), adaptor.getDilations(), adaptor.getPadding(),
          adaptor.getPads(), adaptor.getGroups(), types)))
    return failure();
  auto output = cast<RankedTensorType>(types.front());
  // The sums are f64 (see DLCFusedOps.td).
  Type sums =
      RankedTensorType::get({output.getDimSize(3)}, Float64Type::get(ctx));
  types.append({sums, sums});
  return success();
}

SmallVector<int64_t, 4> Conv2DBnStatsOp::getResolvedPads() {
  return resolvePads(getInput().getType(),
                     getFilter().getType().getShape().take_front(2),
                     getStrides(), getDilations(), getPadding(), getPads());
}

LogicalResult BatchNormTrainApplyOp::inferReturnTypes(
    MLIRContext *ctx, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  OpDiag diag(loc, getOperationName());
  StringRef names[] = {"sum",  "sum_squares",  "gamma",
                       "beta", "running_mean", "running_variance"};
  Value vectors[] = {adaptor.getSum(),         adaptor.getSumSquares(),
                     adaptor.getGamma(),       adaptor.getBeta(),
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

LogicalResult BatchNormReluGradOp::inferReturnTypes(
    MLIRContext *ctx, std::optional<Location> loc, Adaptor adaptor,
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
  if (adaptor.getOutput().getType() != input)
    return diag() << "output has type " << adaptor.getOutput().getType()
                  << " but the input has type " << input;
  Type vector = RankedTensorType::get({*channels},
                                      cast<ShapedType>(input).getElementType());
  types.append({input, vector, vector});
  return success();
}

LogicalResult SoftmaxCrossEntropyWithGradOp::inferReturnTypes(
    MLIRContext *ctx, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  if (failed(checkLogitsAndLabels(OpDiag(loc, getOperationName()),
                                  adaptor.getLogits(), adaptor.getLabels())))
    return failure();
  types.append({RankedTensorType::get({}, Float32Type::get(ctx)),
                adaptor.getLogits().getType()});
  return success();
}

LogicalResult FoldBatchNormParamsOp::inferReturnTypes(
    MLIRContext *ctx, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  OpDiag diag(loc, getOperationName());
  RankedTensorType filter = rankedOf(adaptor.getFilter(), 4);
  if (!filter)
    return diag() << "expects a 4D filter";
  float epsilon = adaptor.getEpsilon().convertToFloat();
  if (!(epsilon > 0.0f))
    return diag() << "epsilon must be positive, got " << epsilon;
  int64_t filters = filter.getDimSize(3);
  StringRef names[] = {"bias", "gamma", "beta", "mean", "variance"};
  Value vectors[] = {adaptor.getBias(), adaptor.getGamma(), adaptor.getBeta(),
                     adaptor.getMean(), adaptor.getVariance()};
  for (auto [v, name] : llvm::zip(vectors, names)) {
    if (!v)
      continue;
    RankedTensorType type = rankedOf(v, 1);
    if (!type || type.getDimSize(0) != filters)
      return diag() << name << " must have " << filters
                    << " elements, one per filter";
  }
  types.append(
      {filter, RankedTensorType::get({filters}, filter.getElementType())});
  return success();
}
