//===- Normalization.cpp - Lower dlc batch normalization to linalg --------===//
//
// Both forms fold the per-channel arithmetic into one scale and one shift,
//   scale = gamma / sqrt(variance + epsilon),  shift = beta - mean * scale,
// computed once per channel, so that the pass over the activations is a
// single multiply-add per element. The training form reads its input once
// for the batch statistics: per-channel sum and sum of squares accumulated
// in f64, where E[x^2] - E[x]^2 keeps the digits that it would cancel in
// f32 (about log10(mean^2 / variance) of them), then rounded to f32. The
// fused ops (Fused.cpp) use the same builders.
//
//===----------------------------------------------------------------------===//

#include "Collectives.h"
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
    auto [sum, sumSquares] = buildChannelSums(rewriter, loc, adaptor.getInput(),
                                              getReductionChunk(op));
    // Synchronized batch norm: the global batch's sums (their mean over
    // the ranks, with M the rank's count: the global mean and variance).
    if (synchronizesBatchNorm(op)) {
      SmallVector<Value> global =
          buildStatisticsAllReduce(rewriter, loc, {sum, sumSquares});
      sum = global[0];
      sumSquares = global[1];
    }
    rewriter.replaceOp(
        op, buildBatchNormFromSums(
                rewriter, loc, adaptor.getInput(), sum, sumSquares,
                adaptor.getGamma(), adaptor.getBeta(), adaptor.getRunningMean(),
                adaptor.getRunningVariance(), op.getEpsilon().convertToDouble(),
                op.getMomentum().convertToDouble(), /*relu=*/false));
    return success();
  }
};

} // namespace

std::pair<Value, Value> lowering::buildChannelSums(OpBuilder &b, Location loc,
                                                   Value x, int64_t chunk) {
  int64_t channels = cast<RankedTensorType>(x.getType()).getShape().back();
  Value zero = createFilled(b, loc, {channels}, f64Constant(b, loc, 0.0));
  auto sumsOf = [&](ValueRange slice) {
    return buildChannelReduction(
        b, loc, slice, ValueRange{zero, zero},
        [](OpBuilder &nb, Location l, ValueRange args) -> SmallVector<Value> {
          Value v = arith::ExtFOp::create(nb, l, nb.getF64Type(), args[0]);
          Value sum = arith::AddFOp::create(nb, l, args[1], v);
          Value squares = arith::AddFOp::create(
              nb, l, args[2], arith::MulFOp::create(nb, l, v, v));
          return {sum, squares};
        });
  };
  SmallVector<Value> sums =
      treeSumChunks(b, loc, mapBatchChunks(b, loc, x, chunk, sumsOf));
  return {sums[0], sums[1]};
}

SmallVector<Value>
lowering::buildBatchNormFromSums(OpBuilder &b, Location loc, Value x, Value sum,
                                 Value sumSquares, Value gamma, Value beta,
                                 Value runningMean, Value runningVariance,
                                 double epsilon, double momentum, bool relu) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t channels = type.getShape().back();
  double count = double(type.getNumElements() / channels);
  Type f32 = b.getF32Type();

  // Per channel: mean, variance (in f64, clamped: rounding may leave a tiny
  // negative), scale, shift and the running statistics.
  SmallVector<Value> stats = buildChannelMap(
      b, loc,
      ValueRange{sum, sumSquares, gamma, beta, runningMean, runningVariance},
      channels, {f32, f32, f32, f32, f32, f32},
      [&](OpBuilder &nb, Location l, ValueRange args) -> SmallVector<Value> {
        Value n = f64Constant(nb, l, count);
        Value mean64 = arith::DivFOp::create(nb, l, args[0], n);
        Value meanSquares = arith::DivFOp::create(nb, l, args[1], n);
        Value var64 = arith::SubFOp::create(
            nb, l, meanSquares, arith::MulFOp::create(nb, l, mean64, mean64));
        var64 = arith::MaximumFOp::create(nb, l, var64, f64Constant(nb, l, 0));
        Value mean = arith::TruncFOp::create(nb, l, f32, mean64);
        Value var = arith::TruncFOp::create(nb, l, f32, var64);
        Value std = math::SqrtOp::create(
            nb, l,
            arith::AddFOp::create(nb, l, var, f32Constant(nb, l, epsilon)));
        Value scale = arith::DivFOp::create(nb, l, args[2], std);
        Value shift = arith::SubFOp::create(
            nb, l, args[3], arith::MulFOp::create(nb, l, mean, scale));
        // new = momentum * running + (1 - momentum) * batch (Keras).
        auto updated = [&](Value running, Value batch) -> Value {
          Value kept = arith::MulFOp::create(nb, l, running,
                                             f32Constant(nb, l, momentum));
          Value added = arith::MulFOp::create(
              nb, l, batch, f32Constant(nb, l, 1.0 - momentum));
          return arith::AddFOp::create(nb, l, kept, added);
        };
        return {mean,
                var,
                scale,
                shift,
                updated(args[4], mean),
                updated(args[5], var)};
      });

  Value y = buildElementwise(
      b, loc, type.getShape(), f32, ValueRange{x, stats[2], stats[3]},
      [&](OpBuilder &nb, Location l, ValueRange args) -> SmallVector<Value> {
        Value v = arith::AddFOp::create(
            nb, l, arith::MulFOp::create(nb, l, args[0], args[1]), args[2]);
        if (relu)
          v = arith::MaximumFOp::create(nb, l, v, f32Constant(nb, l, 0.0));
        return {v};
      });
  return {y, stats[0], stats[1], stats[4], stats[5]};
}

void mlir::dlc::populateNormalizationToLinalgPatterns(
    RewritePatternSet &patterns) {
  patterns.add<BatchNormLowering, BatchNormTrainLowering>(
      patterns.getContext());
}
