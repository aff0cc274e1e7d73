//===- Elementwise.cpp - Lower dlc activations and sums to linalg ---------===//
//
// Elementwise layers become all-parallel linalg.generic ops with identity
// maps (a per-channel operand is read through a map onto the last
// dimension), so the elementwise fusion upstream can merge chains of them.
// Softmax is max / exp-sum / divide along its axis, the numerically stable
// form.
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

/// Lowers a one-input elementwise op with `fn(builder, loc, x, op)`.
template <typename OpTy, typename Fn>
LogicalResult lowerUnary(OpTy op, Value input, ConversionPatternRewriter &rw,
                         Fn fn) {
  auto type = cast<RankedTensorType>(op.getType());
  Value result = buildElementwise(
      rw, op.getLoc(), type.getShape(), type.getElementType(), input,
      [&](OpBuilder &b, Location loc, ValueRange args) -> SmallVector<Value> {
        return {fn(b, loc, args[0])};
      });
  rw.replaceOp(op, result);
  return success();
}

struct ReluLowering : OpConversionPattern<ReluOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ReluOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    return lowerUnary(op, adaptor.getInput(), rewriter,
                      [](OpBuilder &b, Location loc, Value x) -> Value {
                        return arith::MaximumFOp::create(
                            b, loc, x, f32Constant(b, loc, 0.0));
                      });
  }
};

struct LeakyReluLowering : OpConversionPattern<LeakyReluOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(LeakyReluOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    double alpha = op.getAlpha().convertToDouble();
    return lowerUnary(
        op, adaptor.getInput(), rewriter,
        [alpha](OpBuilder &b, Location loc, Value x) -> Value {
          Value positive = arith::CmpFOp::create(
              b, loc, arith::CmpFPredicate::OGE, x, f32Constant(b, loc, 0.0));
          Value scaled =
              arith::MulFOp::create(b, loc, x, f32Constant(b, loc, alpha));
          return arith::SelectOp::create(b, loc, positive, x, scaled);
        });
  }
};

struct SigmoidLowering : OpConversionPattern<SigmoidOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SigmoidOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    // 1 / (1 + exp(-x)): exp overflows to +inf for x << 0, giving exactly 0.
    return lowerUnary(op, adaptor.getInput(), rewriter,
                      [](OpBuilder &b, Location loc, Value x) -> Value {
                        Value one = f32Constant(b, loc, 1.0);
                        Value e = math::ExpOp::create(
                            b, loc, arith::NegFOp::create(b, loc, x));
                        return arith::DivFOp::create(
                            b, loc, one, arith::AddFOp::create(b, loc, one, e));
                      });
  }
};

struct TanhLowering : OpConversionPattern<TanhOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(TanhOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    return lowerUnary(op, adaptor.getInput(), rewriter,
                      [](OpBuilder &b, Location loc, Value x) -> Value {
                        return math::TanhOp::create(b, loc, x);
                      });
  }
};

struct AddLowering : OpConversionPattern<AddOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(AddOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    rewriter.replaceOp(
        op, buildElementwise(
                rewriter, op.getLoc(), type.getShape(), type.getElementType(),
                ValueRange{adaptor.getLhs(), adaptor.getRhs()},
                [](OpBuilder &b, Location loc,
                   ValueRange args) -> SmallVector<Value> {
                  return {arith::AddFOp::create(b, loc, args[0], args[1])};
                }));
    return success();
  }
};

struct BiasAddLowering : OpConversionPattern<BiasAddOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(BiasAddOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    rewriter.replaceOp(
        op, buildElementwise(
                rewriter, op.getLoc(), type.getShape(), type.getElementType(),
                ValueRange{adaptor.getInput(), adaptor.getBias()},
                [](OpBuilder &b, Location loc,
                   ValueRange args) -> SmallVector<Value> {
                  return {arith::AddFOp::create(b, loc, args[0], args[1])};
                }));
    return success();
  }
};

struct SoftmaxLowering : OpConversionPattern<SoftmaxOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SoftmaxOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank();
    if (rank == 0)
      return rewriter.notifyMatchFailure(op, "softmax of a 0-D tensor");
    // I64Attr reads back as uint64_t: recover the sign before normalizing.
    int64_t axis = static_cast<int64_t>(op.getAxis());
    if (axis < 0)
      axis += rank;
    Value x = adaptor.getInput();

    SmallVector<bool> reduced(rank, false);
    reduced[axis] = true;
    Value max = maxOver(rewriter, loc, x, reduced);

    // Maps of the full iteration space and of the axis-reduced tensors.
    SmallVector<AffineExpr> kept;
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis)
        kept.push_back(getAffineDimExpr(d, ctx));
    AffineMap full = rewriter.getMultiDimIdentityMap(rank);
    AffineMap dropped = AffineMap::get(rank, 0, kept, ctx);
    SmallVector<utils::IteratorType> parallel(rank,
                                              utils::IteratorType::parallel);

    Value empty =
        createEmpty(rewriter, loc, type.getShape(), type.getElementType());
    Value exp = buildGeneric(rewriter, loc, ValueRange{x, max}, empty,
                             {full, dropped, full}, parallel,
                             [](OpBuilder &b, Location l,
                                ValueRange args) -> SmallVector<Value> {
                               Value shifted = arith::SubFOp::create(
                                   b, l, args[0], args[1]);
                               return {math::ExpOp::create(b, l, shifted)};
                             })
                    .front();
    Value sum = buildReduction(
        rewriter, loc, exp, reduced, f32Constant(rewriter, loc, 0.0),
        [](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
          return {arith::AddFOp::create(b, l, args[0], args[1])};
        });
    Value result =
        buildGeneric(rewriter, loc, ValueRange{exp, sum}, empty,
                     {full, dropped, full}, parallel,
                     [](OpBuilder &b, Location l,
                        ValueRange args) -> SmallVector<Value> {
                       return {arith::DivFOp::create(b, l, args[0], args[1])};
                     })
            .front();
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void mlir::dlc::populateElementwiseToLinalgPatterns(
    RewritePatternSet &patterns) {
  patterns.add<AddLowering, BiasAddLowering, LeakyReluLowering, ReluLowering,
               SigmoidLowering, SoftmaxLowering, TanhLowering>(
      patterns.getContext());
}
