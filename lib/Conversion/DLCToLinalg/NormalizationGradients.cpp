//===- NormalizationGradients.cpp - Lower batch_norm_grad to linalg -------===//
//
// Training-form batch-norm backward in three steps: one reduction generic
// with two outputs computes sum(dy) and sum(dy * (x - mean)) per channel (a
// single pass over both activations), a per-channel generic turns them into
// the gamma and beta gradients and three coefficients, and one elementwise
// pass computes
//   dx = A * dy + B * (x - mean) + C,   with istd = rsqrt(variance + eps),
//   A = gamma * istd,  B = -A * istd * gamma_grad / M,  C = -A * beta_grad / M,
// which is the op's formula gamma * istd / M * (M dy - beta_grad -
// xhat * gamma_grad) with xhat = (x - mean) * istd, distributed.
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

struct BatchNormGradLowering : OpConversionPattern<BatchNormGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(BatchNormGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value dy = adaptor.getOutputGrad(), x = adaptor.getInput();
    Value mean = adaptor.getMean();
    auto type = cast<RankedTensorType>(x.getType());
    int64_t rank = type.getRank();
    int64_t channels = type.getShape().back();
    double count = double(type.getNumElements() / channels);
    double epsilon = op.getEpsilon().convertToDouble();

    // Per channel: sum(dy), sum(dy * (x - mean)).
    AffineMap full = rewriter.getMultiDimIdentityMap(rank);
    AffineMap channel =
        AffineMap::get(rank, 0, getAffineDimExpr(rank - 1, ctx));
    SmallVector<utils::IteratorType> reduce(rank,
                                            utils::IteratorType::reduction);
    reduce.back() = utils::IteratorType::parallel;
    SmallVector<Value> sums = buildGeneric(
        rewriter, loc, ValueRange{dy, x, mean},
        ValueRange{createFilledF32(rewriter, loc, {channels}, 0.0),
                   createFilledF32(rewriter, loc, {channels}, 0.0)},
        {full, full, channel, channel, channel}, reduce,
        [](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
          Value centered = arith::SubFOp::create(b, l, args[1], args[2]);
          Value product = arith::MulFOp::create(b, l, args[0], centered);
          return {arith::AddFOp::create(b, l, args[3], args[0]),
                  arith::AddFOp::create(b, l, args[4], product)};
        });

    // Per channel: gamma_grad, beta_grad and the coefficients A, B, C.
    AffineMap id = rewriter.getMultiDimIdentityMap(1);
    SmallVector<Value> inits;
    for (int k = 0; k < 5; ++k)
      inits.push_back(
          createEmpty(rewriter, loc, {channels}, rewriter.getF32Type()));
    SmallVector<Value> perChannel = buildGeneric(
        rewriter, loc,
        ValueRange{adaptor.getGamma(), adaptor.getVariance(), sums[0], sums[1]},
        inits, SmallVector<AffineMap>(9, id), {utils::IteratorType::parallel},
        [&](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
          Value gamma = args[0], sumDy = args[2], sumDyXmu = args[3];
          Value istd = math::RsqrtOp::create(
              b, l,
              arith::AddFOp::create(b, l, args[1], f32Constant(b, l, epsilon)));
          Value gammaGrad = arith::MulFOp::create(b, l, sumDyXmu, istd);
          Value a = arith::MulFOp::create(b, l, gamma, istd);
          Value aOverM =
              arith::DivFOp::create(b, l, a, f32Constant(b, l, count));
          Value bCoef = arith::NegFOp::create(
              b, l,
              arith::MulFOp::create(
                  b, l, aOverM, arith::MulFOp::create(b, l, istd, gammaGrad)));
          Value cCoef = arith::NegFOp::create(
              b, l, arith::MulFOp::create(b, l, aOverM, sumDy));
          return {gammaGrad, sumDy, a, bCoef, cCoef};
        });

    Value dx = buildElementwise(
        rewriter, loc, type.getShape(), type.getElementType(),
        ValueRange{dy, x, mean, perChannel[2], perChannel[3], perChannel[4]},
        [](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
          Value centered = arith::SubFOp::create(b, l, args[1], args[2]);
          Value t = arith::AddFOp::create(
              b, l, arith::MulFOp::create(b, l, args[3], args[0]),
              arith::MulFOp::create(b, l, args[4], centered));
          return {arith::AddFOp::create(b, l, t, args[5])};
        });
    rewriter.replaceOp(op, {dx, perChannel[0], perChannel[1]});
    return success();
  }
};

} // namespace

void mlir::dlc::populateNormalizationGradientToLinalgPatterns(
    RewritePatternSet &patterns) {
  patterns.add<BatchNormGradLowering>(patterns.getContext());
}
