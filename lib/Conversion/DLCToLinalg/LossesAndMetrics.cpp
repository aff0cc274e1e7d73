//===- LossesAndMetrics.cpp - Lower dlc losses and accuracy to linalg -----===//
//
// Losses reduce to a mean in a 0-D tensor: one reduction generic computes the
// per-element (or per-row) loss and the sum, a scalar generic divides.
// Cross-entropy uses log-sum-exp shifted by the row maximum; the pass that
// sums the shifted exponentials also selects each row's label logit, the
// label clamped to [0, K) (bad data picks the first or last class). Its
// builders are shared with the gradient and the fused op (Fused.cpp).
// Accuracy is an argmax that keeps the first maximum (a strict comparison),
// then an i32 count of matches.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "dlc/Conversion/DLCToLinalg/DLCToLinalg.h"
#include "dlc/Dialect/DLC/IR/DLCOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Transforms/DialectConversion.h"

#include <limits>

using namespace mlir;
using namespace mlir::dlc;
using namespace mlir::dlc::lowering;

namespace {

/// The mean over every element of `termFn(prediction, target)`.
Value buildElementwiseLossMean(
    OpBuilder &b, Location loc, Value predictions, Value targets,
    llvm::function_ref<Value(OpBuilder &, Location, Value, Value)> termFn) {
  auto type = cast<RankedTensorType>(predictions.getType());
  int64_t rank = type.getRank();
  Value zero = createFilledF32(b, loc, {}, 0.0);
  AffineMap id = b.getMultiDimIdentityMap(rank);
  AffineMap scalar = AffineMap::get(rank, 0, b.getContext());
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::reduction);
  Value sum =
      buildGeneric(b, loc, ValueRange{predictions, targets}, zero,
                   {id, id, scalar}, iterators,
                   [&](OpBuilder &nb, Location l,
                       ValueRange args) -> SmallVector<Value> {
                     Value term = termFn(nb, l, args[0], args[1]);
                     return {arith::AddFOp::create(nb, l, args[2], term)};
                   })
          .front();
  return divideScalar(b, loc, sum, double(type.getNumElements()));
}

struct SoftmaxCrossEntropyLowering
    : OpConversionPattern<SoftmaxCrossEntropyOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SoftmaxCrossEntropyOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    CrossEntropyRows rows = buildCrossEntropyRows(
        rewriter, loc, adaptor.getLogits(), adaptor.getLabels());
    rewriter.replaceOp(op, buildCrossEntropyLoss(rewriter, loc, rows));
    return success();
  }
};

struct MseLowering : OpConversionPattern<MseOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(MseOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(
        op, buildElementwiseLossMean(
                rewriter, op.getLoc(), adaptor.getPredictions(),
                adaptor.getTargets(),
                [](OpBuilder &b, Location l, Value p, Value t) -> Value {
                  Value d = arith::SubFOp::create(b, l, p, t);
                  return arith::MulFOp::create(b, l, d, d);
                }));
    return success();
  }
};

struct BinaryCrossEntropyLowering : OpConversionPattern<BinaryCrossEntropyOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(BinaryCrossEntropyOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto fromLogits = [](OpBuilder &b, Location l, Value x, Value t) -> Value {
      // max(x, 0) - x * t + log(1 + exp(-|x|)): never overflows.
      Value zero = f32Constant(b, l, 0.0);
      Value relu = arith::MaximumFOp::create(b, l, x, zero);
      Value xt = arith::MulFOp::create(b, l, x, t);
      Value negAbs = arith::NegFOp::create(b, l, math::AbsFOp::create(b, l, x));
      Value softplus =
          math::Log1pOp::create(b, l, math::ExpOp::create(b, l, negAbs));
      return arith::AddFOp::create(b, l, arith::SubFOp::create(b, l, relu, xt),
                                   softplus);
    };
    auto fromProbabilities = [](OpBuilder &b, Location l, Value p,
                                Value t) -> Value {
      // Keras: clip to [eps, 1 - eps], eps = 1e-7, then the plain formula.
      Value eps = f32Constant(b, l, 1e-7);
      Value one = f32Constant(b, l, 1.0);
      Value clipped = arith::MinimumFOp::create(
          b, l, arith::MaximumFOp::create(b, l, p, eps),
          arith::SubFOp::create(b, l, one, eps));
      Value pos =
          arith::MulFOp::create(b, l, t, math::LogOp::create(b, l, clipped));
      Value neg = arith::MulFOp::create(
          b, l, arith::SubFOp::create(b, l, one, t),
          math::LogOp::create(b, l, arith::SubFOp::create(b, l, one, clipped)));
      return arith::NegFOp::create(b, l, arith::AddFOp::create(b, l, pos, neg));
    };
    Value loss;
    if (op.getFromLogits())
      loss = buildElementwiseLossMean(rewriter, op.getLoc(),
                                      adaptor.getPredictions(),
                                      adaptor.getTargets(), fromLogits);
    else
      loss = buildElementwiseLossMean(rewriter, op.getLoc(),
                                      adaptor.getPredictions(),
                                      adaptor.getTargets(), fromProbabilities);
    rewriter.replaceOp(op, loss);
    return success();
  }
};

struct AccuracyLowering : OpConversionPattern<AccuracyOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(AccuracyOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    int64_t batch = op.getLogits().getType().getDimSize(0);
    Type i32 = rewriter.getI32Type();

    // Argmax per row: (max, index), replaced only on a strict increase.
    AffineExpr n, k;
    bindDims(ctx, n, k);
    AffineMap nk = AffineMap::get(2, 0, {n, k}, ctx);
    AffineMap rowMap = AffineMap::get(2, 0, {n}, ctx);
    Value maxInit = createFilledF32(rewriter, loc, {batch},
                                    -std::numeric_limits<double>::infinity());
    Value indexInit =
        createFilled(rewriter, loc, {batch},
                     arith::ConstantOp::create(rewriter, loc,
                                               rewriter.getI32IntegerAttr(0)));
    Value argmax =
        buildGeneric(
            rewriter, loc, adaptor.getLogits(), ValueRange{maxInit, indexInit},
            {nk, rowMap, rowMap},
            {utils::IteratorType::parallel, utils::IteratorType::reduction},
            [&](OpBuilder &b, Location l,
                ValueRange args) -> SmallVector<Value> {
              Value k = arith::IndexCastOp::create(
                  b, l, i32, linalg::IndexOp::create(b, l, 1));
              Value greater = arith::CmpFOp::create(
                  b, l, arith::CmpFPredicate::OGT, args[0], args[1]);
              return {arith::SelectOp::create(b, l, greater, args[0], args[1]),
                      arith::SelectOp::create(b, l, greater, k, args[2])};
            })
            .back();

    Value hits = buildElementwise(
        rewriter, loc, {batch}, i32, ValueRange{argmax, adaptor.getLabels()},
        [&](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
          Value equal = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq,
                                              args[0], args[1]);
          return {arith::ExtUIOp::create(b, l, i32, equal)};
        });
    rewriter.replaceOp(op, sumAll(rewriter, loc, hits));
    return success();
  }
};

} // namespace

//===----------------------------------------------------------------------===//
// Softmax cross-entropy builders (shared with LossGradients.cpp, Fused.cpp)
//===----------------------------------------------------------------------===//

Value lowering::isLabelColumn(OpBuilder &b, Location loc, Value label,
                              int64_t classes) {
  Value zero = arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(0));
  Value last = arith::ConstantOp::create(
      b, loc, b.getI32IntegerAttr(static_cast<int32_t>(classes - 1)));
  Value clamped = arith::MinSIOp::create(
      b, loc, arith::MaxSIOp::create(b, loc, label, zero), last);
  Value column = arith::IndexCastOp::create(b, loc, b.getI32Type(),
                                            linalg::IndexOp::create(b, loc, 1));
  return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, column,
                               clamped);
}

CrossEntropyRows lowering::buildCrossEntropyRows(OpBuilder &b, Location loc,
                                                 Value logits, Value labels) {
  MLIRContext *ctx = b.getContext();
  ArrayRef<int64_t> shape = cast<RankedTensorType>(logits.getType()).getShape();
  int64_t batch = shape[0], classes = shape[1];

  CrossEntropyRows rows;
  rows.max = maxOver(b, loc, logits, {false, true});

  AffineExpr n, k;
  bindDims(ctx, n, k);
  AffineMap nk = AffineMap::get(2, 0, {n, k}, ctx);
  AffineMap rowMap = AffineMap::get(2, 0, {n}, ctx);
  SmallVector<Value> inputs = {logits, rows.max};
  SmallVector<Value> outputs = {createFilledF32(b, loc, {batch}, 0.0)};
  SmallVector<AffineMap> maps = {nk, rowMap, rowMap};
  if (labels) {
    // The label logit is selected in the same pass rather than read
    // through tensor.extract afterwards: every index stays in bounds.
    inputs.push_back(labels);
    outputs.push_back(createFilledF32(b, loc, {batch}, 0.0));
    maps = {nk, rowMap, rowMap, rowMap, rowMap};
  }
  SmallVector<Value> sums = buildGeneric(
      b, loc, inputs, outputs, maps,
      {utils::IteratorType::parallel, utils::IteratorType::reduction},
      [&](OpBuilder &nb, Location l, ValueRange args) -> SmallVector<Value> {
        Value x = args[0], max = args[1];
        Value e =
            math::ExpOp::create(nb, l, arith::SubFOp::create(nb, l, x, max));
        if (!labels)
          return {arith::AddFOp::create(nb, l, args[2], e)};
        Value hit = isLabelColumn(nb, l, args[2], classes);
        return {arith::AddFOp::create(nb, l, args[3], e),
                arith::SelectOp::create(nb, l, hit, x, args[4])};
      });
  rows.sumExp = sums[0];
  if (labels)
    rows.picked = sums[1];
  return rows;
}

Value lowering::buildCrossEntropyLoss(OpBuilder &b, Location loc,
                                      const CrossEntropyRows &rows) {
  assert(rows.picked && "the loss needs the label logits");
  int64_t batch = cast<RankedTensorType>(rows.max.getType()).getDimSize(0);
  // loss[n] = log(sum exp(x - max)) + max - x[n, label[n]].
  Value perRow = buildElementwise(
      b, loc, {batch}, b.getF32Type(),
      ValueRange{rows.max, rows.sumExp, rows.picked},
      [](OpBuilder &nb, Location l, ValueRange args) -> SmallVector<Value> {
        Value lse = arith::AddFOp::create(
            nb, l, math::LogOp::create(nb, l, args[1]), args[0]);
        return {arith::SubFOp::create(nb, l, lse, args[2])};
      });
  return divideScalar(b, loc, sumAll(b, loc, perRow), batch);
}

void mlir::dlc::populateLossAndMetricToLinalgPatterns(
    RewritePatternSet &patterns) {
  patterns.add<AccuracyLowering, BinaryCrossEntropyLowering, MseLowering,
               SoftmaxCrossEntropyLowering>(patterns.getContext());
}
