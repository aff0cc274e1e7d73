//===- ConvAndDense.cpp - Lower dlc.conv2d and dlc.dense to linalg --------===//
//
// Convolutions keep NHWC activations and HWCF filters. The accumulator starts
// as the broadcast bias (or zero), so the bias costs no extra pass. Which
// linalg op carries a conv2d depends on its grouping:
//
//  * groups == 1: linalg.conv_2d_nhwc_hwcf, the op the CPU schedule tiles and
//    vectorizes.
//  * groups == C (depthwise): the filter [KH, KW, 1, C*M] is viewed as
//    [KH, KW, C, M] (output channel f = c * M + m belongs to group c), giving
//    linalg.depthwise_conv_2d_nhwc_hwc when M == 1 and
//    linalg.depthwise_conv_2d_nhwc_hwcm otherwise.
//  * 1 < groups < C: no named op takes HWCF filters with groups (the
//    nhwgc_gfhwc op wants the filter transposed), so the convolution is a
//    linalg.generic over (n, oh, ow, g, f, kh, kw, c) on reshaped views:
//    input [N, H, W, G, C/G], filter [KH, KW, C/G, G, F/G], output
//    [N, OH, OW, G, F/G]. Reshapes are free after bufferization.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "dlc/Conversion/DLCToLinalg/DLCToLinalg.h"
#include "dlc/Dialect/DLC/IR/DLCOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlir::dlc;
using namespace mlir::dlc::lowering;

namespace {

/// groups == C: depthwise convolution with a channel multiplier M = F / C.
Value buildDepthwise(OpBuilder &b, Location loc, Value input, Value filter,
                     Value init, DenseIntElementsAttr strides,
                     DenseIntElementsAttr dilations) {
  auto filterType = cast<RankedTensorType>(filter.getType());
  auto initType = cast<RankedTensorType>(init.getType());
  int64_t kh = filterType.getDimSize(0), kw = filterType.getDimSize(1);
  int64_t channels = cast<RankedTensorType>(input.getType()).getDimSize(3);
  int64_t multiplier = filterType.getDimSize(3) / channels;
  // [KH, KW, 1, C*M] -> [KH, KW, C*M]: drops the unit "channels per group".
  Value flat = reshapeTo(b, loc, filter, {kh, kw, channels * multiplier},
                         {{0}, {1}, {2, 3}});
  if (multiplier == 1)
    return linalg::DepthwiseConv2DNhwcHwcOp::create(
               b, loc, TypeRange{initType}, ValueRange{input, flat},
               ValueRange{init}, strides, dilations)
        .getResult(0);

  ArrayRef<int64_t> out = initType.getShape();
  Value hwcm = reshapeTo(b, loc, flat, {kh, kw, channels, multiplier},
                         {{0}, {1}, {2, 3}});
  Value initCM =
      reshapeTo(b, loc, init, {out[0], out[1], out[2], channels, multiplier},
                {{0}, {1}, {2}, {3, 4}});
  Value conv = linalg::DepthwiseConv2DNhwcHwcmOp::create(
                   b, loc, TypeRange{initCM.getType()}, ValueRange{input, hwcm},
                   ValueRange{initCM}, strides, dilations)
                   .getResult(0);
  return reshapeTo(b, loc, conv, out, {{0}, {1}, {2}, {3, 4}});
}

/// 1 < groups < C: a linalg.generic on grouped views of every operand.
Value buildGrouped(OpBuilder &b, Location loc, Value input, Value filter,
                   Value init, int64_t groups, ArrayRef<int64_t> strides,
                   ArrayRef<int64_t> dilations) {
  MLIRContext *ctx = b.getContext();
  ArrayRef<int64_t> in = cast<RankedTensorType>(input.getType()).getShape();
  ArrayRef<int64_t> fil = cast<RankedTensorType>(filter.getType()).getShape();
  ArrayRef<int64_t> out = cast<RankedTensorType>(init.getType()).getShape();
  int64_t cg = in[3] / groups, fg = out[3] / groups;
  Value groupedInput =
      reshapeTo(b, loc, input, {in[0], in[1], in[2], groups, cg},
                {{0}, {1}, {2}, {3, 4}});
  Value groupedFilter =
      reshapeTo(b, loc, filter, {fil[0], fil[1], cg, groups, fg},
                {{0}, {1}, {2}, {3, 4}});
  Value groupedInit =
      reshapeTo(b, loc, init, {out[0], out[1], out[2], groups, fg},
                {{0}, {1}, {2}, {3, 4}});

  // Loops: n, oh, ow, g, f | kh, kw, c.
  AffineExpr n, oh, ow, g, f, kh, kw, c;
  bindDims(ctx, n, oh, ow, g, f, kh, kw, c);
  AffineMap maps[] = {
      AffineMap::get(8, 0,
                     {n, oh * strides[0] + kh * dilations[0],
                      ow * strides[1] + kw * dilations[1], g, c},
                     ctx),
      AffineMap::get(8, 0, {kh, kw, c, g, f}, ctx),
      AffineMap::get(8, 0, {n, oh, ow, g, f}, ctx)};
  using utils::IteratorType;
  SmallVector<IteratorType> iterators(5, IteratorType::parallel);
  iterators.append(3, IteratorType::reduction);
  Value conv =
      buildGeneric(b, loc, ValueRange{groupedInput, groupedFilter}, groupedInit,
                   maps, iterators,
                   [](OpBuilder &nb, Location nl,
                      ValueRange args) -> SmallVector<Value> {
                     Value product =
                         arith::MulFOp::create(nb, nl, args[0], args[1]);
                     return {arith::AddFOp::create(nb, nl, args[2], product)};
                   })
          .front();
  return reshapeTo(b, loc, conv, out, {{0}, {1}, {2}, {3, 4}});
}

} // namespace

Value lowering::buildConv2D(OpBuilder &b, Location loc, Value input,
                            Value filter, Value init, int64_t groups,
                            ArrayRef<int64_t> strides,
                            ArrayRef<int64_t> dilations) {
  auto resultType = cast<RankedTensorType>(init.getType());
  int64_t channels = cast<RankedTensorType>(input.getType()).getDimSize(3);
  auto stridesAttr = b.getI64VectorAttr(strides);
  auto dilationsAttr = b.getI64VectorAttr(dilations);
  if (groups == 1)
    return linalg::Conv2DNhwcHwcfOp::create(
               b, loc, TypeRange{resultType}, ValueRange{input, filter},
               ValueRange{init}, stridesAttr, dilationsAttr)
        .getResult(0);
  if (groups == channels)
    return buildDepthwise(b, loc, input, filter, init, stridesAttr,
                          dilationsAttr);
  return buildGrouped(b, loc, input, filter, init, groups, strides, dilations);
}

namespace {

struct Conv2DLowering : OpConversionPattern<Conv2DOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(Conv2DOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(op.getType());

    Value input = padSpatial(rewriter, loc, adaptor.getInput(),
                             op.getResolvedPads(), /*padValue=*/0.0);
    Value init = adaptor.getBias()
                     ? broadcastChannels(rewriter, loc, adaptor.getBias(),
                                         resultType.getShape())
                     : createFilledF32(rewriter, loc, resultType.getShape(), 0);
    rewriter.replaceOp(
        op, buildConv2D(rewriter, loc, input, adaptor.getFilter(), init,
                        op.getGroups(), op.getStrides(), op.getDilations()));
    return success();
  }
};

/// dense: input [N, K] x kernel [K, M] accumulated into the broadcast bias.
struct DenseLowering : OpConversionPattern<DenseOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(DenseOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(op.getType());
    Value init = adaptor.getBias()
                     ? broadcastChannels(rewriter, loc, adaptor.getBias(),
                                         resultType.getShape())
                     : createFilledF32(rewriter, loc, resultType.getShape(), 0);
    rewriter.replaceOp(op,
                       linalg::MatmulOp::create(
                           rewriter, loc, TypeRange{resultType},
                           ValueRange{adaptor.getInput(), adaptor.getKernel()},
                           ValueRange{init})
                           .getResult(0));
    return success();
  }
};

} // namespace

void mlir::dlc::populateConvAndDenseToLinalgPatterns(
    RewritePatternSet &patterns) {
  patterns.add<Conv2DLowering, DenseLowering>(patterns.getContext());
}
