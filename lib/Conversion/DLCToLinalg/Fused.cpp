//===- Fused.cpp - Lower the dlc fused ops to linalg ----------------------===//
//
// The fused ops of DLCFusedOps.td. The batch-norm ones use the builders of
// the plain batch-norm lowerings (Normalization*.cpp), so that fused and
// plain programs compute bit-identical forward values:
//
//  * conv2d_bn_stats: the dlc.conv2d it contains (lowered by the conv
//    patterns, which must be in the same pattern set), then one reduction
//    generic over the conv output yielding both f64 sums. The CPU schedule
//    (lib/Target/CPU/TileAndVectorize.cpp) moves that reduction into the
//    convolution's register tiles, its epilogue.
//  * batch_norm_train_apply: x * scale + shift (and the relu), one pass.
//  * batch_norm_relu_grad: one reduction pass yielding sum(g) and
//    sum(g * (x - mean)), one elementwise pass for the input gradient.
//  * fold_batch_norm_params: one pass over the filter.
//
// softmax_cross_entropy_with_grad uses the builders of the plain loss and
// its gradient (LossesAndMetrics.cpp, LossGradients.cpp) on one set of row
// values: a row-max pass, a pass summing the shifted exponentials and
// picking the label logits, the loss from those [N] values (bit-identical
// to the plain loss), and one elementwise pass writing the gradient.
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

struct Conv2DBnStatsLowering : OpConversionPattern<Conv2DBnStatsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(Conv2DBnStatsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    // The convolution itself, with the same operands and attributes; the
    // conversion lowers it with the conv2d pattern.
    OperationState state(loc, Conv2DOp::getOperationName());
    state.addOperands(adaptor.getOperands());
    for (NamedAttribute attr : op->getAttrs())
      state.addAttribute(attr.getName(), attr.getValue());
    state.addTypes(op.getOutput().getType());
    Value conv = rewriter.create(state)->getResult(0);

    // The CPU schedule computes this reduction on each output tile of the
    // convolution (TileAndVectorize.cpp): no second pass over the output.
    // With --reduction-chunk the sums are per chunk of samples, in the
    // order of a chunk-sized batch, so they take a pass of their own.
    int64_t chunk = getReductionChunk(op);
    auto [sum, sumSquares] = buildChannelSums(rewriter, loc, conv, chunk);
    if (chunk <= 0)
      sum.getDefiningOp()->setAttr("dlc.epilogue", rewriter.getUnitAttr());
    rewriter.replaceOp(op, {conv, sum, sumSquares});
    return success();
  }
};

struct BatchNormTrainApplyLowering
    : OpConversionPattern<BatchNormTrainApplyOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(BatchNormTrainApplyOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    // Synchronized batch norm: the conv's epilogue sums stay per rank; the
    // apply normalizes with their mean over the ranks.
    SmallVector<Value> sums = {adaptor.getSum(), adaptor.getSumSquares()};
    if (synchronizesBatchNorm(op))
      sums = buildStatisticsAllReduce(rewriter, op.getLoc(), sums);
    rewriter.replaceOp(
        op, buildBatchNormFromSums(
                rewriter, op.getLoc(), adaptor.getInput(), sums[0], sums[1],
                adaptor.getGamma(), adaptor.getBeta(), adaptor.getRunningMean(),
                adaptor.getRunningVariance(), op.getEpsilon().convertToDouble(),
                op.getMomentum().convertToDouble(), op.getRelu()));
    return success();
  }
};

struct BatchNormReluGradLowering : OpConversionPattern<BatchNormReluGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(BatchNormReluGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(
        op,
        buildBatchNormGradFor(
            rewriter, op.getLoc(), adaptor.getOutputGrad(), adaptor.getOutput(),
            adaptor.getInput(), adaptor.getGamma(), adaptor.getMean(),
            adaptor.getVariance(), op.getEpsilon().convertToDouble(),
            /*sumsInEpilogue=*/true, synchronizesBatchNorm(op),
            getReductionChunk(op)));
    return success();
  }
};

struct FoldBatchNormParamsLowering
    : OpConversionPattern<FoldBatchNormParamsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(FoldBatchNormParamsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto filterType = cast<RankedTensorType>(op.getFilter().getType());
    int64_t filters = filterType.getDimSize(3);
    double epsilon = op.getEpsilon().convertToDouble();
    Type f32 = rewriter.getF32Type();
    Value bias = adaptor.getBias()
                     ? adaptor.getBias()
                     : createFilledF32(rewriter, loc, {filters}, 0.0);

    // scale = gamma / sqrt(var + eps), bias' = beta + (bias - mean) * scale.
    SmallVector<Value> folded = buildChannelMap(
        rewriter, loc,
        ValueRange{adaptor.getGamma(), adaptor.getBeta(), adaptor.getMean(),
                   adaptor.getVariance(), bias},
        filters, {f32, f32},
        [&](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
          Value std = math::SqrtOp::create(
              b, l,
              arith::AddFOp::create(b, l, args[3], f32Constant(b, l, epsilon)));
          Value scale = arith::DivFOp::create(b, l, args[0], std);
          Value shifted = arith::MulFOp::create(
              b, l, arith::SubFOp::create(b, l, args[4], args[2]), scale);
          return {scale, arith::AddFOp::create(b, l, args[1], shifted)};
        });
    Value filter = buildElementwise(
        rewriter, loc, filterType.getShape(), f32,
        ValueRange{adaptor.getFilter(), folded[0]},
        [](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
          return {arith::MulFOp::create(b, l, args[0], args[1])};
        });
    rewriter.replaceOp(op, {filter, folded[1]});
    return success();
  }
};

struct SoftmaxCrossEntropyWithGradLowering
    : OpConversionPattern<SoftmaxCrossEntropyWithGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SoftmaxCrossEntropyWithGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    CrossEntropyRows rows = buildCrossEntropyRows(
        rewriter, loc, adaptor.getLogits(), adaptor.getLabels());
    Value loss = buildCrossEntropyLoss(rewriter, loc, rows);
    Value grad =
        buildCrossEntropyGrad(rewriter, loc, adaptor.getLogits(),
                              adaptor.getLabels(), rows, adaptor.getLossGrad());
    rewriter.replaceOp(op, {loss, grad});
    return success();
  }
};

} // namespace

void mlir::dlc::populateFusedToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<BatchNormReluGradLowering, BatchNormTrainApplyLowering,
               Conv2DBnStatsLowering, FoldBatchNormParamsLowering,
               SoftmaxCrossEntropyWithGradLowering>(patterns.getContext());
}
