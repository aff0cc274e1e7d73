//===- NormalizationGradients.cpp - Lower batch_norm_grad to linalg -------===//
//
// Training-form batch-norm backward in three steps: one reduction generic
// with two outputs computes sum(dy) and sum(dy * (x - mean)) per channel in
// f64 (a single pass over both activations), a per-channel generic turns them
// into the gamma and beta gradients and three coefficients, and one elementwise
// pass computes
//   dx = A * dy + B * (x - mean) + C,   with istd = rsqrt(variance + eps),
//   A = gamma * istd,  B = -A * istd * gamma_grad / M,  C = -A * beta_grad / M,
// which is the op's formula gamma * istd / M * (M dy - beta_grad -
// xhat * gamma_grad) with xhat = (x - mean) * istd, distributed.
// dlc.batch_norm_relu_grad (Fused.cpp) is the same with dy masked by the
// relu output in both passes.
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

struct BatchNormGradLowering : OpConversionPattern<BatchNormGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(BatchNormGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(
        op, buildBatchNormGradFor(
                rewriter, op.getLoc(), adaptor.getOutputGrad(),
                /*reluOutput=*/nullptr, adaptor.getInput(), adaptor.getGamma(),
                adaptor.getMean(), adaptor.getVariance(),
                op.getEpsilon().convertToDouble(),
                /*sumsInEpilogue=*/false, synchronizesBatchNorm(op),
                getReductionChunk(op)));
    return success();
  }
};

/// The relu mask: `dy` where `y > 0`, else 0.
Value maskedGrad(OpBuilder &b, Location l, Value dy, Value y) {
  Value zero = f32Constant(b, l, 0.0);
  Value active =
      arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, y, zero);
  return arith::SelectOp::create(b, l, active, dy, zero);
}

} // namespace

SmallVector<Value> lowering::buildBatchNormGrad(OpBuilder &b, Location loc,
                                                Value outputGrad,
                                                Value reluOutput, Value x,
                                                Value gamma, Value mean,
                                                Value variance, double epsilon,
                                                bool sumsInEpilogue) {
  return buildBatchNormGradFor(b, loc, outputGrad, reluOutput, x, gamma, mean,
                               variance, epsilon, sumsInEpilogue,
                               /*synchronize=*/false);
}

SmallVector<Value> lowering::buildBatchNormGradFor(
    OpBuilder &b, Location loc, Value outputGrad, Value reluOutput, Value x,
    Value gamma, Value mean, Value variance, double epsilon,
    bool sumsInEpilogue, bool synchronize, int64_t chunk) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t channels = type.getShape().back();
  double count = double(type.getNumElements() / channels);
  Type f32 = b.getF32Type(), f64 = b.getF64Type();
  bool relu = static_cast<bool>(reluOutput);
  // The activations every pass reads: dy (and y for the mask), x.
  SmallVector<Value> activations = {outputGrad};
  if (relu)
    activations.push_back(reluOutput);
  activations.push_back(x);
  auto gradOf = [&](OpBuilder &nb, Location l, ValueRange args) {
    return relu ? maskedGrad(nb, l, args[0], args[1]) : args[0];
  };
  size_t numActivations = activations.size();

  // Per channel, in f64: sum(g) and sum(g * (x - mean)). Both cancel
  // heavily (g has both signs) over N*H*W terms, where f32 accumulation
  // would lose about 1e-3 of the result.
  Value zeros = createFilled(b, loc, {channels}, f64Constant(b, loc, 0.0));
  auto sumsOf = [&](ValueRange slices) {
    SmallVector<Value> sliceInputs(slices);
    sliceInputs.push_back(mean);
    return buildChannelReduction(
        b, loc, sliceInputs, ValueRange{zeros, zeros},
        [&](OpBuilder &nb, Location l, ValueRange args) -> SmallVector<Value> {
          Value g = gradOf(nb, l, args);
          Value centered = arith::SubFOp::create(
              nb, l, args[numActivations - 1], args[numActivations]);
          Value g64 = arith::ExtFOp::create(nb, l, f64, g);
          Value product = arith::MulFOp::create(
              nb, l, g64, arith::ExtFOp::create(nb, l, f64, centered));
          return {
              arith::AddFOp::create(nb, l, args[numActivations + 1], g64),
              arith::AddFOp::create(nb, l, args[numActivations + 2], product)};
        });
  };
  // With --reduction-chunk: the sums per chunk of samples (no epilogue:
  // the order must be a chunk-sized batch's), added by treeSum.
  SmallVector<SmallVector<Value>> chunkSums =
      mapBatchChunks(b, loc, activations, chunk, sumsOf);
  SmallVector<Value> sums = treeSumChunks(b, loc, chunkSums);
  if (chunk <= 0 && sumsInEpilogue)
    sums[0].getDefiningOp()->setAttr("dlc.epilogue", b.getUnitAttr());

  // Synchronized batch norm: the input gradient uses the mean over the
  // ranks of both sums (with M the rank's count: the global batch's
  // formula, as torch.nn.SyncBatchNorm), while gamma_grad and beta_grad
  // stay this rank's, averaged with the other gradients.
  SmallVector<Value> channelInputs = {gamma, variance, sums[0], sums[1]};
  if (synchronize)
    llvm::append_range(channelInputs,
                       buildStatisticsAllReduce(b, loc, {sums[0], sums[1]}));

  // Per channel: gamma_grad, beta_grad and the coefficients A, B, C.
  SmallVector<Value> perChannel = buildChannelMap(
      b, loc, channelInputs, channels, {f32, f32, f32, f32, f32},
      [&](OpBuilder &nb, Location l, ValueRange args) -> SmallVector<Value> {
        Value sumG = arith::TruncFOp::create(nb, l, f32, args[2]);
        Value sumGXmu = arith::TruncFOp::create(nb, l, f32, args[3]);
        Value istd = math::RsqrtOp::create(
            nb, l,
            arith::AddFOp::create(nb, l, args[1], f32Constant(nb, l, epsilon)));
        Value gammaGrad = arith::MulFOp::create(nb, l, sumGXmu, istd);
        Value globalSumG = sumG, globalGammaGrad = gammaGrad;
        if (synchronize) {
          globalSumG = arith::TruncFOp::create(nb, l, f32, args[4]);
          globalGammaGrad = arith::MulFOp::create(
              nb, l, arith::TruncFOp::create(nb, l, f32, args[5]), istd);
        }
        Value a = arith::MulFOp::create(nb, l, args[0], istd);
        Value aOverM =
            arith::DivFOp::create(nb, l, a, f32Constant(nb, l, count));
        Value bCoef = arith::NegFOp::create(
            nb, l,
            arith::MulFOp::create(
                nb, l, aOverM,
                arith::MulFOp::create(nb, l, istd, globalGammaGrad)));
        Value cCoef = arith::NegFOp::create(
            nb, l, arith::MulFOp::create(nb, l, aOverM, globalSumG));
        return {gammaGrad, sumG, a, bCoef, cCoef};
      });

  // With --reduction-chunk, gamma_grad and beta_grad are the f32 sums of
  // the chunks' own: the all-reduce of a data-parallel job adds the ranks'
  // f32 gradients, so one process adds the same f32 values.
  if (chunkSums.size() > 1) {
    SmallVector<SmallVector<Value>> chunkGrads;
    for (const SmallVector<Value> &partial : chunkSums)
      chunkGrads.push_back(buildChannelMap(
          b, loc, ValueRange{variance, partial[0], partial[1]}, channels,
          {f32, f32},
          [&](OpBuilder &nb, Location l,
              ValueRange args) -> SmallVector<Value> {
            Value istd = math::RsqrtOp::create(
                nb, l,
                arith::AddFOp::create(nb, l, args[0],
                                      f32Constant(nb, l, epsilon)));
            Value sumG = arith::TruncFOp::create(nb, l, f32, args[1]);
            Value sumGXmu = arith::TruncFOp::create(nb, l, f32, args[2]);
            return {arith::MulFOp::create(nb, l, sumGXmu, istd), sumG};
          }));
    SmallVector<Value> grads = treeSumChunks(b, loc, chunkGrads);
    perChannel[0] = grads[0];
    perChannel[1] = grads[1];
  }

  // dx = A * g + B * (x - mean) + C.
  SmallVector<Value> dxInputs(activations);
  dxInputs.append({mean, perChannel[2], perChannel[3], perChannel[4]});
  Value dx = buildElementwise(
      b, loc, type.getShape(), f32, dxInputs,
      [&](OpBuilder &nb, Location l, ValueRange args) -> SmallVector<Value> {
        Value g = gradOf(nb, l, args);
        ValueRange rest = args.drop_front(numActivations - 1);
        Value centered = arith::SubFOp::create(nb, l, rest[0], rest[1]);
        Value t = arith::AddFOp::create(
            nb, l, arith::MulFOp::create(nb, l, rest[2], g),
            arith::MulFOp::create(nb, l, rest[3], centered));
        return {arith::AddFOp::create(nb, l, t, rest[4])};
      });
  return {dx, perChannel[0], perChannel[1]};
}

void mlir::dlc::populateNormalizationGradientToLinalgPatterns(
    RewritePatternSet &patterns) {
  patterns.add<BatchNormGradLowering>(patterns.getContext());
}
