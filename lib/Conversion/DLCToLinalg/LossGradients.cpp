//===- LossGradients.cpp - Lower loss backward ops to linalg --------------===//
//
// Each loss gradient is one elementwise generic scaled by loss_grad / N
// (N = batch for cross-entropy, the element count for the elementwise
// losses); loss_grad is a 0-D tensor read through a scalar map. The
// softmax cross-entropy gradient recomputes the row's softmax (max, sum of
// shifted exponentials) rather than keeping the forward's, and compares the
// column index with the row's label (clamped as in the forward op) for the
// one-hot term.
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

struct SoftmaxCrossEntropyGradLowering
    : OpConversionPattern<SoftmaxCrossEntropyGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SoftmaxCrossEntropyGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value logits = adaptor.getLogits();
    ArrayRef<int64_t> shape = op.getLogits().getType().getShape();
    int64_t batch = shape[0], classes = shape[1];

    Value max = maxOver(rewriter, loc, logits, {false, true});
    AffineExpr n, k;
    bindDims(ctx, n, k);
    AffineMap nk = AffineMap::get(2, 0, {n, k}, ctx);
    AffineMap rowMap = AffineMap::get(2, 0, {n}, ctx);
    AffineMap scalarMap = AffineMap::get(2, 0, ctx);
    Value sumExp =
        buildGeneric(
            rewriter, loc, ValueRange{logits, max},
            createFilledF32(rewriter, loc, {batch}, 0.0), {nk, rowMap, rowMap},
            {utils::IteratorType::parallel, utils::IteratorType::reduction},
            [](OpBuilder &b, Location l,
               ValueRange args) -> SmallVector<Value> {
              Value e = math::ExpOp::create(
                  b, l, arith::SubFOp::create(b, l, args[0], args[1]));
              return {arith::AddFOp::create(b, l, args[2], e)};
            })
            .front();

    // (exp(x - max) / sum - [k == label]) * loss_grad / N.
    Value scale = divideScalar(rewriter, loc, adaptor.getLossGrad(), batch);
    Value grad =
        buildGeneric(
            rewriter, loc,
            ValueRange{logits, max, sumExp, adaptor.getLabels(), scale},
            createEmpty(rewriter, loc, shape, rewriter.getF32Type()),
            {nk, rowMap, rowMap, rowMap, scalarMap, nk},
            {utils::IteratorType::parallel, utils::IteratorType::parallel},
            [&](OpBuilder &b, Location l,
                ValueRange args) -> SmallVector<Value> {
              Value e = math::ExpOp::create(
                  b, l, arith::SubFOp::create(b, l, args[0], args[1]));
              Value p = arith::DivFOp::create(b, l, e, args[2]);
              // The label, clamped to [0, K) as in the forward op.
              Type i32 = b.getI32Type();
              Value label = arith::MinSIOp::create(
                  b, l,
                  arith::MaxSIOp::create(
                      b, l, args[3],
                      arith::ConstantOp::create(b, l, b.getI32IntegerAttr(0))),
                  arith::ConstantOp::create(
                      b, l,
                      b.getI32IntegerAttr(static_cast<int32_t>(classes - 1))));
              Value column = arith::IndexCastOp::create(
                  b, l, i32, linalg::IndexOp::create(b, l, 1));
              Value hit = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq,
                                                column, label);
              Value target = arith::SelectOp::create(
                  b, l, hit, f32Constant(b, l, 1.0), f32Constant(b, l, 0.0));
              return {arith::MulFOp::create(
                  b, l, arith::SubFOp::create(b, l, p, target), args[4])};
            })
            .front();
    rewriter.replaceOp(op, grad);
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

void mlir::dlc::populateLossGradientToLinalgPatterns(
    RewritePatternSet &patterns) {
  patterns.add<BinaryCrossEntropyGradLowering, MseGradLowering,
               SoftmaxCrossEntropyGradLowering>(patterns.getContext());
}
