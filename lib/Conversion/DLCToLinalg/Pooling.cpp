//===- Pooling.cpp - Lower dlc pooling layers to linalg -------------------===//
//
// max_pool2d and avg_pool2d map onto linalg.pooling_nhwc_max / _sum over an
// input padded explicitly (with -inf for max, so that padding never wins;
// with 0 for the sum). Keras averages a `same`-padded window over its valid
// positions only, so the divisor of each output position is the size of the
// window clipped to the input, computed from linalg.index in the dividing
// generic; `valid` windows all divide by KH * KW.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "dlc/Conversion/DLCToLinalg/DLCToLinalg.h"
#include "dlc/Dialect/DLC/IR/DLCOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Transforms/DialectConversion.h"

#include <limits>

using namespace mlir;
using namespace mlir::dlc;
using namespace mlir::dlc::lowering;

namespace {

/// Emits linalg.pooling_nhwc_{max,sum} of `op` on its padded input.
template <typename PoolOp, typename OpTy>
Value buildPooling(OpTy op, Value input, double padValue, OpBuilder &b) {
  Location loc = op.getLoc();
  auto resultType = cast<RankedTensorType>(op.getType());
  Value padded = padSpatial(b, loc, input, op.getResolvedPads(), padValue);
  Value init = createFilledF32(b, loc, resultType.getShape(), padValue);
  ArrayRef<int64_t> poolSize = op.getPoolSize();
  Value window = createEmpty(b, loc, poolSize, b.getF32Type());
  return PoolOp::create(b, loc, TypeRange{resultType},
                        ValueRange{padded, window}, ValueRange{init},
                        b.getI64VectorAttr(op.getStrides()),
                        b.getI64VectorAttr({1, 1}))
      .getResult(0);
}

struct MaxPool2DLowering : OpConversionPattern<MaxPool2DOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(MaxPool2DOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op,
                       buildPooling<linalg::PoolingNhwcMaxOp>(
                           op, adaptor.getInput(),
                           -std::numeric_limits<double>::infinity(), rewriter));
    return success();
  }
};

struct AvgPool2DLowering : OpConversionPattern<AvgPool2DOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(AvgPool2DOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(op.getType());
    Value sum = buildPooling<linalg::PoolingNhwcSumOp>(op, adaptor.getInput(),
                                                       0.0, rewriter);
    SmallVector<int64_t, 4> pads = op.getResolvedPads();
    ArrayRef<int64_t> k = op.getPoolSize(), s = op.getStrides();
    ArrayRef<int64_t> in = op.getInput().getType().getShape();
    bool padded = llvm::any_of(pads, [](int64_t p) { return p != 0; });

    Value result = buildElementwise(
        rewriter, loc, resultType.getShape(), resultType.getElementType(), sum,
        [&](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
          if (!padded)
            return {arith::DivFOp::create(b, l, args[0],
                                          f32Constant(b, l, k[0] * k[1]))};
          Value oh = linalg::IndexOp::create(b, l, 1);
          Value ow = linalg::IndexOp::create(b, l, 2);
          Value count = arith::MulIOp::create(
              b, l, windowValidCount(b, l, oh, s[0], pads[0], k[0], in[1]),
              windowValidCount(b, l, ow, s[1], pads[2], k[1], in[2]));
          Value count64 =
              arith::IndexCastOp::create(b, l, b.getI64Type(), count);
          Value divisor =
              arith::SIToFPOp::create(b, l, b.getF32Type(), count64);
          return {arith::DivFOp::create(b, l, args[0], divisor)};
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct GlobalAvgPoolLowering : OpConversionPattern<GlobalAvgPoolOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(GlobalAvgPoolOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(op.getType());
    ArrayRef<int64_t> in = op.getInput().getType().getShape();
    Value sum = buildReduction(
        rewriter, loc, adaptor.getInput(), {false, true, true, false},
        f32Constant(rewriter, loc, 0.0),
        [](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
          return {arith::AddFOp::create(b, l, args[0], args[1])};
        });
    double count = in[1] * in[2];
    rewriter.replaceOp(
        op, buildElementwise(rewriter, loc, resultType.getShape(),
                             resultType.getElementType(), sum,
                             [&](OpBuilder &b, Location l,
                                 ValueRange args) -> SmallVector<Value> {
                               return {arith::DivFOp::create(
                                   b, l, args[0], f32Constant(b, l, count))};
                             }));
    return success();
  }
};

} // namespace

void mlir::dlc::populatePoolingToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<AvgPool2DLowering, GlobalAvgPoolLowering, MaxPool2DLowering>(
      patterns.getContext());
}
