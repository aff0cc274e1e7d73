//===- Fused.cpp - Lower the dlc fused ops to linalg ----------------------===//
//
// The fused ops of DLCFusedOps.td. Per-channel arithmetic (statistics,
// scale and shift, running statistics, folded parameters) is one small
// generic over the channels; each pass over the activations is one generic:
//
//  * conv2d_bn_stats: the dlc.conv2d it contains (lowered by the conv
//    patterns, which must be in the same pattern set), then ONE reduction
//    generic that reads the conv output once and yields both sums, in f64
//    (the op's result type: see DLCFusedOps.td). (The reduction is not yet
//    computed in the convolution's register tiles; that is the CPU schedule's
//    job.)
//  * batch_norm_train_apply: x * scale + shift (and the relu), one pass.
//  * batch_norm_relu_grad: one reduction pass yielding sum(g) and
//    sum(g * xhat), one elementwise pass for the input gradient.
//  * fold_batch_norm_params: one pass over the filter.
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

using utils::IteratorType;

/// Per-channel reduction of rank-`rank` operands: every dimension but the
/// last is reduced. `inputs` are full tensors or [C] vectors (broadcast);
/// `outputs` are [C] accumulators.
SmallVector<Value> buildChannelReduction(OpBuilder &b, Location loc,
                                         ValueRange inputs, ValueRange outputs,
                                         GenericBodyFn body) {
  MLIRContext *ctx = b.getContext();
  int64_t rank = cast<RankedTensorType>(inputs.front().getType()).getRank();
  AffineMap full = b.getMultiDimIdentityMap(rank);
  AffineMap channel = AffineMap::get(rank, 0, getAffineDimExpr(rank - 1, ctx));
  SmallVector<AffineMap> maps;
  for (Value input : inputs)
    maps.push_back(cast<RankedTensorType>(input.getType()).getRank() == rank
                       ? full
                       : channel);
  maps.append(outputs.size(), channel);
  SmallVector<IteratorType> iterators(rank, IteratorType::reduction);
  iterators.back() = IteratorType::parallel;
  return buildGeneric(b, loc, inputs, outputs, maps, iterators, body);
}

/// A generic over [C] vectors with one result per entry of `outputTypes`.
SmallVector<Value> buildChannelMap(OpBuilder &b, Location loc,
                                   ValueRange inputs, int64_t channels,
                                   ArrayRef<Type> outputTypes,
                                   GenericBodyFn body) {
  SmallVector<Value> outputs;
  for (Type type : outputTypes)
    outputs.push_back(createEmpty(b, loc, {channels}, type));
  SmallVector<AffineMap> maps(inputs.size() + outputs.size(),
                              b.getMultiDimIdentityMap(1));
  return buildGeneric(b, loc, inputs, outputs, maps, {IteratorType::parallel},
                      body);
}

Value f64Constant(OpBuilder &b, Location loc, double value) {
  return arith::ConstantOp::create(b, loc, b.getF64FloatAttr(value));
}

Value extF64(OpBuilder &b, Location loc, Value v) {
  return arith::ExtFOp::create(b, loc, b.getF64Type(), v);
}

Value truncF32(OpBuilder &b, Location loc, Value v) {
  return arith::TruncFOp::create(b, loc, b.getF32Type(), v);
}

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

    int64_t channels = op.getOutput().getType().getDimSize(3);
    Value zero = createFilled(rewriter, loc, {channels},
                              f64Constant(rewriter, loc, 0.0));
    SmallVector<Value> sums = buildChannelReduction(
        rewriter, loc, conv, ValueRange{zero, zero},
        [](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
          Value x = extF64(b, l, args[0]);
          Value sum = arith::AddFOp::create(b, l, args[1], x);
          Value squares = arith::AddFOp::create(
              b, l, args[2], arith::MulFOp::create(b, l, x, x));
          return {sum, squares};
        });
    rewriter.replaceOp(op, {conv, sums[0], sums[1]});
    return success();
  }
};

struct BatchNormTrainApplyLowering
    : OpConversionPattern<BatchNormTrainApplyOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(BatchNormTrainApplyOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getInput().getType());
    int64_t channels = type.getShape().back();
    double count = double(type.getNumElements() / channels);
    double epsilon = op.getEpsilon().convertToDouble();
    double momentum = op.getMomentum().convertToDouble();
    Type f32 = rewriter.getF32Type();

    // Per channel: mean, variance (in f64, clamped: rounding may leave a
    // tiny negative), scale, shift and the running statistics.
    SmallVector<Value> stats = buildChannelMap(
        rewriter, loc,
        ValueRange{adaptor.getSum(), adaptor.getSumSquares(),
                   adaptor.getGamma(), adaptor.getBeta(),
                   adaptor.getRunningMean(), adaptor.getRunningVariance()},
        channels, {f32, f32, f32, f32, f32, f32},
        [&](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
          Value n = f64Constant(b, l, count);
          Value mean64 = arith::DivFOp::create(b, l, args[0], n);
          Value meanSquares = arith::DivFOp::create(b, l, args[1], n);
          Value var64 = arith::SubFOp::create(
              b, l, meanSquares, arith::MulFOp::create(b, l, mean64, mean64));
          var64 = arith::MaximumFOp::create(b, l, var64, f64Constant(b, l, 0));
          Value mean = truncF32(b, l, mean64), var = truncF32(b, l, var64);
          Value std = math::SqrtOp::create(
              b, l,
              arith::AddFOp::create(b, l, var, f32Constant(b, l, epsilon)));
          Value scale = arith::DivFOp::create(b, l, args[2], std);
          Value shift = arith::SubFOp::create(
              b, l, args[3], arith::MulFOp::create(b, l, mean, scale));
          auto updated = [&](Value running, Value batch) -> Value {
            Value kept = arith::MulFOp::create(b, l, running,
                                               f32Constant(b, l, momentum));
            Value added = arith::MulFOp::create(
                b, l, batch, f32Constant(b, l, 1.0 - momentum));
            return arith::AddFOp::create(b, l, kept, added);
          };
          return {mean,
                  var,
                  scale,
                  shift,
                  updated(args[4], mean),
                  updated(args[5], var)};
        });

    bool relu = op.getRelu();
    Value y = buildElementwise(
        rewriter, loc, type.getShape(), f32,
        ValueRange{adaptor.getInput(), stats[2], stats[3]},
        [&](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
          Value v = arith::AddFOp::create(
              b, l, arith::MulFOp::create(b, l, args[0], args[1]), args[2]);
          if (relu)
            v = arith::MaximumFOp::create(b, l, v, f32Constant(b, l, 0.0));
          return {v};
        });
    rewriter.replaceOp(op, {y, stats[0], stats[1], stats[4], stats[5]});
    return success();
  }
};

struct BatchNormReluGradLowering : OpConversionPattern<BatchNormReluGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(BatchNormReluGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getInput().getType());
    int64_t channels = type.getShape().back();
    double count = double(type.getNumElements() / channels);
    double epsilon = op.getEpsilon().convertToDouble();
    Type f32 = rewriter.getF32Type();

    // rstd = 1 / sqrt(variance + epsilon), k = gamma * rstd / M.
    SmallVector<Value> perChannel = buildChannelMap(
        rewriter, loc, ValueRange{adaptor.getGamma(), adaptor.getVariance()},
        channels, {f32, f32},
        [&](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
          Value rstd = math::RsqrtOp::create(
              b, l,
              arith::AddFOp::create(b, l, args[1], f32Constant(b, l, epsilon)));
          Value k = arith::DivFOp::create(
              b, l, arith::MulFOp::create(b, l, args[0], rstd),
              f32Constant(b, l, count));
          return {rstd, k};
        });
    Value rstd = perChannel[0], k = perChannel[1];

    // The relu mask and the normalized input, shared by both passes.
    auto maskAndXhat = [](OpBuilder &b, Location l, Value dy, Value y, Value x,
                          Value mean, Value rstd) -> std::pair<Value, Value> {
      Value zero = f32Constant(b, l, 0.0);
      Value active =
          arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, y, zero);
      Value g = arith::SelectOp::create(b, l, active, dy, zero);
      Value xhat = arith::MulFOp::create(
          b, l, arith::SubFOp::create(b, l, x, mean), rstd);
      return {g, xhat};
    };

    // Pass 1: beta_grad = sum(g), gamma_grad = sum(g * xhat), accumulated
    // in f64 like the forward statistics: these sums cancel heavily (g has
    // both signs) over N*H*W terms, 8192 per channel for a 32x32 batch of 8,
    // where f32 accumulation loses about 1e-3 of the result.
    Value zeros =
        createFilled(rewriter, loc, {channels}, f64Constant(rewriter, loc, 0));
    SmallVector<Value> sums = buildChannelReduction(
        rewriter, loc,
        ValueRange{adaptor.getOutputGrad(), adaptor.getOutput(),
                   adaptor.getInput(), adaptor.getMean(), rstd},
        ValueRange{zeros, zeros},
        [&](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
          auto [g, xhat] =
              maskAndXhat(b, l, args[0], args[1], args[2], args[3], args[4]);
          Value g64 = extF64(b, l, g);
          return {arith::AddFOp::create(b, l, args[5], g64),
                  arith::AddFOp::create(
                      b, l, args[6],
                      arith::MulFOp::create(b, l, g64, extF64(b, l, xhat)))};
        });
    SmallVector<Value> sums32 = buildChannelMap(
        rewriter, loc, ValueRange{sums[0], sums[1]}, channels, {f32, f32},
        [&](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
          return {arith::TruncFOp::create(b, l, b.getF32Type(), args[0]),
                  arith::TruncFOp::create(b, l, b.getF32Type(), args[1])};
        });
    Value betaGrad = sums32[0], gammaGrad = sums32[1];

    // Pass 2: input_grad = k * (M * g - beta_grad - xhat * gamma_grad).
    Value dx = buildElementwise(
        rewriter, loc, type.getShape(), f32,
        ValueRange{adaptor.getOutputGrad(), adaptor.getOutput(),
                   adaptor.getInput(), adaptor.getMean(), rstd, k, betaGrad,
                   gammaGrad},
        [&](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
          auto [g, xhat] =
              maskAndXhat(b, l, args[0], args[1], args[2], args[3], args[4]);
          Value scaled =
              arith::MulFOp::create(b, l, g, f32Constant(b, l, count));
          Value centered = arith::SubFOp::create(
              b, l, arith::SubFOp::create(b, l, scaled, args[6]),
              arith::MulFOp::create(b, l, xhat, args[7]));
          return {arith::MulFOp::create(b, l, args[5], centered)};
        });
    rewriter.replaceOp(op, {dx, gammaGrad, betaGrad});
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

} // namespace

void mlir::dlc::populateFusedToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<BatchNormReluGradLowering, BatchNormTrainApplyLowering,
               Conv2DBnStatsLowering, FoldBatchNormParamsLowering>(
      patterns.getContext());
}
