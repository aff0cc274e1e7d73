//===- LossGradients.cpp - Lower loss backward ops to linalg --------------===//
//
// Each loss gradient is one elementwise generic scaled by loss_grad / N
// (N = batch for cross-entropy, the element count for the elementwise
// losses); loss_grad is a 0-D tensor read through a scalar map. The
// softmax cross-entropy gradient recomputes the row's softmax (max, sum of
// shifted exponentials) rather than keeping the forward's, and compares the
// column index with the row's label (clamped as in the forward op) for the
// one-hot term. Its builders are shared with the forward op and the fused
// softmax_cross_entropy_with_grad, which computes the row values once.
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

struct SoftmaxCrossEntropyGradLowering
    : OpConversionPattern<SoftmaxCrossEntropyGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SoftmaxCrossEntropyGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    // Max and sum only: the label logit is the forward loss's business.
    CrossEntropyRows rows =
        buildCrossEntropyRows(rewriter, loc, adaptor.getLogits(), Value());
    rewriter.replaceOp(op,
                       buildCrossEntropyGrad(rewriter, loc, adaptor.getLogits(),
                                             adaptor.getLabels(), rows,
                                             adaptor.getLossGrad()));
    return success();
  }
};

/// An elementwise loss gradient: fn(prediction, target) * loss_grad / numel.
template <typename OpTy>
LogicalResult lowerElementwiseLossGrad(
    OpTy op, Value predictions, Value targets, Value lossGrad,
    ConversionPatternRewriter &rewriter,
    llvm::function_ref<Value(OpBuilder &, Location, Value, Value)> fn) {
  Location loc = op.getLoc();
  auto type = cast<RankedTensorType>(op.getType());
  Value scale =
      divideScalar(rewriter, loc, lossGrad, double(type.getNumElements()));
  rewriter.replaceOp(
      op,
      buildElementwise(
          rewriter, loc, type.getShape(), type.getElementType(),
          ValueRange{predictions, targets, scale},
          [&](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
            return {arith::MulFOp::create(b, l, fn(b, l, args[0], args[1]),
                                          args[2])};
          }));
  return success();
}

struct MseGradLowering : OpConversionPattern<MseGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(MseGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    return lowerElementwiseLossGrad(
        op, adaptor.getPredictions(), adaptor.getTargets(),
        adaptor.getLossGrad(), rewriter,
        [](OpBuilder &b, Location l, Value p, Value t) -> Value {
          Value d = arith::SubFOp::create(b, l, p, t);
          return arith::MulFOp::create(b, l, f32Constant(b, l, 2.0), d);
        });
  }
};

struct BinaryCrossEntropyGradLowering
    : OpConversionPattern<BinaryCrossEntropyGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(BinaryCrossEntropyGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto fromLogits = [](OpBuilder &b, Location l, Value x, Value t) -> Value {
      // sigmoid(x) - t, with the forward's sigmoid form.
      Value one = f32Constant(b, l, 1.0);
      Value e = math::ExpOp::create(b, l, arith::NegFOp::create(b, l, x));
      Value sigmoid =
          arith::DivFOp::create(b, l, one, arith::AddFOp::create(b, l, one, e));
      return arith::SubFOp::create(b, l, sigmoid, t);
    };
    auto fromProbabilities = [](OpBuilder &b, Location l, Value p,
                                Value t) -> Value {
      // (p - t) / (p (1 - p)) inside [eps, 1 - eps], eps = 1e-7 (the
      // forward's clip), and 0 where the clip holds p constant.
      Value eps = f32Constant(b, l, 1e-7);
      Value one = f32Constant(b, l, 1.0);
      Value oneMinusEps = arith::SubFOp::create(b, l, one, eps);
      Value inside = arith::AndIOp::create(
          b, l, arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGE, p, eps),
          arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLE, p,
                                oneMinusEps));
      Value denominator =
          arith::MulFOp::create(b, l, p, arith::SubFOp::create(b, l, one, p));
      Value grad = arith::DivFOp::create(
          b, l, arith::SubFOp::create(b, l, p, t), denominator);
      return arith::SelectOp::create(b, l, inside, grad,
                                     f32Constant(b, l, 0.0));
    };
    if (op.getFromLogits())
      return lowerElementwiseLossGrad(
          op, adaptor.getPredictions(), adaptor.getTargets(),
          adaptor.getLossGrad(), rewriter, fromLogits);
    return lowerElementwiseLossGrad(op, adaptor.getPredictions(),
                                    adaptor.getTargets(), adaptor.getLossGrad(),
                                    rewriter, fromProbabilities);
  }
};

} // namespace

Value lowering::buildCrossEntropyGrad(OpBuilder &b, Location loc, Value logits,
                                      Value labels,
                                      const CrossEntropyRows &rows,
                                      Value lossGrad) {
  MLIRContext *ctx = b.getContext();
  ArrayRef<int64_t> shape = cast<RankedTensorType>(logits.getType()).getShape();
  int64_t batch = shape[0], classes = shape[1];
  AffineExpr n, k;
  bindDims(ctx, n, k);
  AffineMap nk = AffineMap::get(2, 0, {n, k}, ctx);
  AffineMap rowMap = AffineMap::get(2, 0, {n}, ctx);
  AffineMap scalarMap = AffineMap::get(2, 0, ctx);

  // (exp(x - max) / sum - [k == label]) * loss_grad / N.
  Value scale = divideScalar(b, loc, lossGrad, batch);
  return buildGeneric(
             b, loc, ValueRange{logits, rows.max, rows.sumExp, labels, scale},
             createEmpty(b, loc, shape, b.getF32Type()),
             {nk, rowMap, rowMap, rowMap, scalarMap, nk},
             {utils::IteratorType::parallel, utils::IteratorType::parallel},
             [&](OpBuilder &nb, Location l,
                 ValueRange args) -> SmallVector<Value> {
               Value e = math::ExpOp::create(
                   nb, l, arith::SubFOp::create(nb, l, args[0], args[1]));
               Value p = arith::DivFOp::create(nb, l, e, args[2]);
               Value target = arith::SelectOp::create(
                   nb, l, isLabelColumn(nb, l, args[3], classes),
                   f32Constant(nb, l, 1.0), f32Constant(nb, l, 0.0));
               return {arith::MulFOp::create(
                   nb, l, arith::SubFOp::create(nb, l, p, target), args[4])};
             })
      .front();
}

void mlir::dlc::populateLossGradientToLinalgPatterns(
    RewritePatternSet &patterns) {
  patterns.add<BinaryCrossEntropyGradLowering, MseGradLowering,
               SoftmaxCrossEntropyGradLowering>(patterns.getContext());
}
