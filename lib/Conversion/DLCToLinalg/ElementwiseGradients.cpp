//===- ElementwiseGradients.cpp - Lower activation backward ops -----------===//
//
// Activation gradients are all-parallel linalg.generic ops over (output
// gradient, saved forward value), like the forward activations, so that the
// elementwise fusion merges them with their neighbours (e.g. relu_grad into
// the batch-norm backward that follows it). softmax_grad needs one
// reduction along its axis, sum(dy * y), and then one elementwise pass.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "dlc/Conversion/DLCToLinalg/DLCToLinalg.h"
#include "dlc/Dialect/DLC/IR/DLCOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlir::dlc;
using namespace mlir::dlc::lowering;

namespace {

/// Replaces `op` by `fn(builder, loc, dy, saved)` applied elementwise.
template <typename OpTy, typename Fn>
LogicalResult lowerBinary(OpTy op, Value dy, Value saved,
                          ConversionPatternRewriter &rw, Fn fn) {
  auto type = cast<RankedTensorType>(op.getType());
  Value result = buildElementwise(
      rw, op.getLoc(), type.getShape(), type.getElementType(),
      ValueRange{dy, saved},
      [&](OpBuilder &b, Location loc, ValueRange args) -> SmallVector<Value> {
        return {fn(b, loc, args[0], args[1])};
      });
  rw.replaceOp(op, result);
  return success();
}

struct ReluGradLowering : OpConversionPattern<ReluGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ReluGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    // The output is positive exactly where the input was.
    return lowerBinary(
        op, adaptor.getOutputGrad(), adaptor.getOutput(), rewriter,
        [](OpBuilder &b, Location loc, Value dy, Value y) -> Value {
          Value zero = f32Constant(b, loc, 0.0);
          Value positive =
              arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, y, zero);
          return arith::SelectOp::create(b, loc, positive, dy, zero);
        });
  }
};

struct LeakyReluGradLowering : OpConversionPattern<LeakyReluGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(LeakyReluGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    double alpha = op.getAlpha().convertToDouble();
    return lowerBinary(
        op, adaptor.getOutputGrad(), adaptor.getInput(), rewriter,
        [alpha](OpBuilder &b, Location loc, Value dy, Value x) -> Value {
          // The forward's own branch condition, x >= 0.
          Value positive = arith::CmpFOp::create(
              b, loc, arith::CmpFPredicate::OGE, x, f32Constant(b, loc, 0.0));
          Value scaled =
              arith::MulFOp::create(b, loc, dy, f32Constant(b, loc, alpha));
          return arith::SelectOp::create(b, loc, positive, dy, scaled);
        });
  }
};

struct SigmoidGradLowering : OpConversionPattern<SigmoidGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SigmoidGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    return lowerBinary(
        op, adaptor.getOutputGrad(), adaptor.getOutput(), rewriter,
        [](OpBuilder &b, Location loc, Value dy, Value y) -> Value {
          Value oneMinusY =
              arith::SubFOp::create(b, loc, f32Constant(b, loc, 1.0), y);
          return arith::MulFOp::create(
              b, loc, dy, arith::MulFOp::create(b, loc, y, oneMinusY));
        });
  }
};

struct TanhGradLowering : OpConversionPattern<TanhGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(TanhGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    return lowerBinary(
        op, adaptor.getOutputGrad(), adaptor.getOutput(), rewriter,
        [](OpBuilder &b, Location loc, Value dy, Value y) -> Value {
          Value y2 = arith::MulFOp::create(b, loc, y, y);
          Value slope =
              arith::SubFOp::create(b, loc, f32Constant(b, loc, 1.0), y2);
          return arith::MulFOp::create(b, loc, dy, slope);
        });
  }
};

struct SoftmaxGradLowering : OpConversionPattern<SoftmaxGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SoftmaxGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank();
    if (rank == 0)
      return rewriter.notifyMatchFailure(op, "softmax_grad of a 0-D tensor");
    // I64Attr reads back as uint64_t: recover the sign before normalizing.
    int64_t axis = static_cast<int64_t>(op.getAxis());
    if (axis < 0)
      axis += rank;
    Value dy = adaptor.getOutputGrad(), y = adaptor.getOutput();

    // dot[...] = sum over the axis of dy * y.
    SmallVector<AffineExpr> kept;
    SmallVector<int64_t> keptShape;
    SmallVector<utils::IteratorType> iterators;
    for (int64_t d = 0; d < rank; ++d) {
      iterators.push_back(d == axis ? utils::IteratorType::reduction
                                    : utils::IteratorType::parallel);
      if (d == axis)
        continue;
      kept.push_back(getAffineDimExpr(d, ctx));
      keptShape.push_back(type.getDimSize(d));
    }
    AffineMap full = rewriter.getMultiDimIdentityMap(rank);
    AffineMap dropped = AffineMap::get(rank, 0, kept, ctx);
    Value dot =
        buildGeneric(rewriter, loc, ValueRange{dy, y},
                     createFilledF32(rewriter, loc, keptShape, 0.0),
                     {full, full, dropped}, iterators,
                     [](OpBuilder &b, Location l,
                        ValueRange args) -> SmallVector<Value> {
                       Value p = arith::MulFOp::create(b, l, args[0], args[1]);
                       return {arith::AddFOp::create(b, l, args[2], p)};
                     })
            .front();

    // dx = y * (dy - dot).
    SmallVector<utils::IteratorType> parallel(rank,
                                              utils::IteratorType::parallel);
    Value dx =
        buildGeneric(
            rewriter, loc, ValueRange{dy, y, dot},
            createEmpty(rewriter, loc, type.getShape(), type.getElementType()),
            {full, full, dropped, full}, parallel,
            [](OpBuilder &b, Location l,
               ValueRange args) -> SmallVector<Value> {
              Value centered = arith::SubFOp::create(b, l, args[0], args[2]);
              return {arith::MulFOp::create(b, l, args[1], centered)};
            })
            .front();
    rewriter.replaceOp(op, dx);
    return success();
  }
};

} // namespace

void mlir::dlc::populateElementwiseGradientToLinalgPatterns(
    RewritePatternSet &patterns) {
  patterns.add<LeakyReluGradLowering, ReluGradLowering, SigmoidGradLowering,
               SoftmaxGradLowering, TanhGradLowering>(patterns.getContext());
}
