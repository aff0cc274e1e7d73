//===- Normalization.cpp - Lower dlc batch normalization to linalg --------===//
//
// Both forms fold the per-channel arithmetic into one scale and one shift,
//   scale = gamma / sqrt(variance + epsilon),  shift = beta - mean * scale,
// computed once per channel, so that the pass over the activations is a
// single multiply-add per element. The training form computes the batch
// mean first and then the biased variance as the mean of squared deviations
// (two passes: more accurate than E[x^2] - E[x]^2 in f32).
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "dlc/Conversion/DLCToLinalg/DLCToLinalg.h"
#include "dlc/Dialect/DLC/IR/DLCOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlir::dlc;
using namespace mlir::dlc::lowering;

namespace {

/// (scale, shift) of gamma, beta, mean and variance, all [C].
std::pair<Value, Value> buildScaleAndShift(OpBuilder &b, Location loc,
                                           Value gamma, Value beta, Value mean,
                                           Value variance, double epsilon) {
  int64_t channels = cast<RankedTensorType>(gamma.getType()).getDimSize(0);
  Value scaleInit = createEmpty(b, loc, {channels}, b.getF32Type());
  Value shiftInit = createEmpty(b, loc, {channels}, b.getF32Type());
  AffineMap id = b.getMultiDimIdentityMap(1);
  SmallVector<Value> results = buildGeneric(
      b, loc, ValueRange{gamma, beta, mean, variance},
      ValueRange{scaleInit, shiftInit}, {id, id, id, id, id, id},
      {utils::IteratorType::parallel},
      [&](OpBuilder &nb, Location l, ValueRange args) -> SmallVector<Value> {
        Value std = math::SqrtOp::create(
            nb, l,
            arith::AddFOp::create(nb, l, args[3], f32Constant(nb, l, epsilon)));
        Value scale = arith::DivFOp::create(nb, l, args[0], std);
        Value shift = arith::SubFOp::create(
            nb, l, args[1], arith::MulFOp::create(nb, l, args[2], scale));
        return {scale, shift};
      });
  return {results[0], results[1]};
}

/// x * scale + shift, with per-channel scale and shift.
Value buildNormalize(OpBuilder &b, Location loc, Value x, Value scale,
                     Value shift) {
  auto type = cast<RankedTensorType>(x.getType());
  return buildElementwise(
      b, loc, type.getShape(), type.getElementType(),
      ValueRange{x, scale, shift},
      [](OpBuilder &nb, Location l, ValueRange args) -> SmallVector<Value> {
        return {arith::AddFOp::create(
            nb, l, arith::MulFOp::create(nb, l, args[0], args[1]), args[2])};
      });
}

struct BatchNormLowering : OpConversionPattern<BatchNormOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(BatchNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto [scale, shift] = buildScaleAndShift(
        rewriter, op.getLoc(), adaptor.getGamma(), adaptor.getBeta(),
        adaptor.getMean(), adaptor.getVariance(),
        op.getEpsilon().convertToDouble());
    rewriter.replaceOp(op, buildNormalize(rewriter, op.getLoc(),
                                          adaptor.getInput(), scale, shift));
    return success();
  }
};

struct BatchNormTrainLowering : OpConversionPattern<BatchNormTrainOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(BatchNormTrainOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value x = adaptor.getInput();
    auto type = cast<RankedTensorType>(x.getType());
    int64_t rank = type.getRank();
    int64_t channels = type.getShape().back();
    double count = double(type.getNumElements() / channels);
    double momentum = op.getMomentum().convertToDouble();

    auto divideBy = [&](Value v, double d) {
      return buildElementwise(
          rewriter, loc, {channels}, rewriter.getF32Type(), v,
          [&](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
            return {arith::DivFOp::create(b, l, args[0], f32Constant(b, l, d))};
          });
    };
    Value mean = divideBy(sumPerChannel(rewriter, loc, x), count);

    // sum over all but the last dimension of (x - mean)^2.
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::reduction);
    iterators.back() = utils::IteratorType::parallel;
    AffineMap channelMap =
        AffineMap::get(rank, 0, getAffineDimExpr(rank - 1, ctx));
    Value zeros = createFilledF32(rewriter, loc, {channels}, 0.0);
    Value squares =
        buildGeneric(
            rewriter, loc, ValueRange{x, mean}, zeros,
            {rewriter.getMultiDimIdentityMap(rank), channelMap, channelMap},
            iterators,
            [](OpBuilder &b, Location l,
               ValueRange args) -> SmallVector<Value> {
              Value d = arith::SubFOp::create(b, l, args[0], args[1]);
              Value d2 = arith::MulFOp::create(b, l, d, d);
              return {arith::AddFOp::create(b, l, args[2], d2)};
            })
            .front();
    Value variance = divideBy(squares, count);

    auto [scale, shift] =
        buildScaleAndShift(rewriter, loc, adaptor.getGamma(), adaptor.getBeta(),
                           mean, variance, op.getEpsilon().convertToDouble());
    Value y = buildNormalize(rewriter, loc, x, scale, shift);

    // new = momentum * running + (1 - momentum) * batch (Keras convention).
    auto updated = [&](Value running, Value batch) {
      return buildElementwise(
          rewriter, loc, {channels}, rewriter.getF32Type(),
          ValueRange{running, batch},
          [&](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
            Value kept = arith::MulFOp::create(b, l, args[0],
                                               f32Constant(b, l, momentum));
            Value added = arith::MulFOp::create(
                b, l, args[1], f32Constant(b, l, 1.0 - momentum));
            return {arith::AddFOp::create(b, l, kept, added)};
          });
    };
    rewriter.replaceOp(op, {y, mean, variance,
                            updated(adaptor.getRunningMean(), mean),
                            updated(adaptor.getRunningVariance(), variance)});
    return success();
  }
};

} // namespace

void mlir::dlc::populateNormalizationToLinalgPatterns(
    RewritePatternSet &patterns) {
  patterns.add<BatchNormLowering, BatchNormTrainLowering>(
      patterns.getContext());
}
