//===- PoolingGradients.cpp - Lower pooling backward ops to linalg --------===//
//
// A pooling backward op scatters each output gradient over its window, and
// windows may overlap. A scatter-add is not a linalg op on tensors, so each
// input position gathers instead: input row h (padded row hp = h + pad_top)
// lies in the windows oh = hp / s - a for a in [0, ceil(KH / s)), at window
// row kh = hp - oh * s, when 0 <= oh < OH and kh < KH (likewise for
// columns). The gather is one linalg.generic over (n, h, w, c | a, b) that
// reads the per-window values with tensor.extract at clamped indices and
// adds only the valid ones; for the common non-overlapping windows
// (KH <= s) the reduction has a single step.
//
//  * max_pool2d_grad first computes each window's argmax (the flat window
//    offset kh * KW + kw of its first maximum in row-major order), for the
//    usual small windows in one elementwise pass with the window unrolled
//    (vectorized over the contiguous channels), then an input position
//    receives the gradient of each window whose argmax it is. Padding is
//    -inf and never wins.
//  * avg_pool2d_grad divides each output gradient by its window's count of
//    valid positions (as the forward op does), then gathers.
//  * global_avg_pool_grad broadcasts dy / (H * W).
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "dlc/Conversion/DLCToLinalg/DLCToLinalg.h"
#include "dlc/Dialect/DLC/IR/DLCOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Transforms/DialectConversion.h"

#include <limits>

using namespace mlir;
using namespace mlir::dlc;
using namespace mlir::dlc::lowering;

namespace {

/// The window geometry of a pooling op and its gradient.
struct Window {
  ArrayRef<int64_t> input;  // N, H, W, C
  ArrayRef<int64_t> output; // N, OH, OW, C
  ArrayRef<int64_t> size;   // KH, KW
  ArrayRef<int64_t> strides;
  SmallVector<int64_t, 4> pads; // top, bottom, left, right
};

/// The window containing (padded) position `padded` that is `step` windows
/// before the last one that starts at or before it, along one dimension.
/// Returns (clamped window index, offset in the window, valid).
std::tuple<Value, Value, Value> windowAt(OpBuilder &b, Location loc,
                                         Value position, Value step,
                                         int64_t pad, int64_t stride,
                                         int64_t kernel, int64_t outputs) {
  Value padded =
      arith::AddIOp::create(b, loc, position, indexConstant(b, loc, pad));
  Value last =
      arith::DivUIOp::create(b, loc, padded, indexConstant(b, loc, stride));
  Value window = arith::SubIOp::create(b, loc, last, step);
  Value offset = arith::SubIOp::create(
      b, loc, padded,
      arith::MulIOp::create(b, loc, window, indexConstant(b, loc, stride)));
  Value zero = indexConstant(b, loc, 0);
  Value valid = arith::AndIOp::create(
      b, loc,
      arith::AndIOp::create(
          b, loc,
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, window,
                                zero),
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, window,
                                indexConstant(b, loc, outputs))),
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, offset,
                            indexConstant(b, loc, kernel)));
  Value clamped = arith::MinSIOp::create(
      b, loc, arith::MaxSIOp::create(b, loc, window, zero),
      indexConstant(b, loc, outputs - 1));
  return {clamped, offset, valid};
}

/// What one window contributes to one input position: called with the
/// clamped window indices (n, oh, ow, c) and the position's offsets in the
/// window (kh, kw); the result is masked by the window's validity.
using ContributionFn = llvm::function_ref<Value(
    OpBuilder &b, Location loc, ValueRange windowIndices, Value kh, Value kw)>;

/// dx[n, h, w, c] = sum over the windows containing (h, w) of `fn`.
Value gatherWindows(OpBuilder &b, Location loc, const Window &win,
                    ContributionFn fn) {
  MLIRContext *ctx = b.getContext();
  // Windows per position along each dimension (at most).
  int64_t across[] = {(win.size[0] + win.strides[0] - 1) / win.strides[0],
                      (win.size[1] + win.strides[1] - 1) / win.strides[1]};
  // Gives the loops over (a, b) their extent.
  Value steps = createEmpty(b, loc, across, b.getF32Type());
  Value init = createFilledF32(b, loc, win.input, 0.0);
  AffineExpr n, h, w, c, i, j;
  bindDims(ctx, n, h, w, c, i, j);
  AffineMap maps[] = {AffineMap::get(6, 0, {i, j}, ctx),
                      AffineMap::get(6, 0, {n, h, w, c}, ctx)};
  SmallVector<utils::IteratorType> iterators(4, utils::IteratorType::parallel);
  iterators.append(2, utils::IteratorType::reduction);
  return buildGeneric(
             b, loc, steps, init, maps, iterators,
             [&](OpBuilder &nb, Location l,
                 ValueRange args) -> SmallVector<Value> {
               Value idx[6];
               for (unsigned d = 0; d < 6; ++d)
                 idx[d] = linalg::IndexOp::create(nb, l, d);
               auto [oh, kh, validH] =
                   windowAt(nb, l, idx[1], idx[4], win.pads[0], win.strides[0],
                            win.size[0], win.output[1]);
               auto [ow, kw, validW] =
                   windowAt(nb, l, idx[2], idx[5], win.pads[2], win.strides[1],
                            win.size[1], win.output[2]);
               Value valid = arith::AndIOp::create(nb, l, validH, validW);
               Value term = fn(nb, l, {idx[0], oh, ow, idx[3]}, kh, kw);
               Value masked = arith::SelectOp::create(nb, l, valid, term,
                                                      f32Constant(nb, l, 0.0));
               return {arith::AddFOp::create(nb, l, args[1], masked)};
             })
      .front();
}

/// Windows of at most this many positions get their argmax from one
/// elementwise pass (unrolledArgmax).
constexpr int64_t kMaxUnrolledWindow = 16;

/// The argmax of each window (the flat offset kh * KW + kw of its first
/// maximum in row-major order) as one elementwise generic over
/// (n, oh, ow, c) whose inputs are the KH x KW strided views of the input
/// at each window offset: the window is unrolled in the body, and the
/// channels are the innermost loop over contiguous memory (NHWC), which the
/// loop vectorizer turns into SIMD compares and selects. (A generic with the
/// window as reduction loops puts those innermost, scalar, around a strided
/// access.) Visiting in order, "greater than the running maximum" keeps the
/// first of equal maxima.
Value unrolledArgmax(OpBuilder &b, Location loc, const Window &win,
                     Value padded) {
  MLIRContext *ctx = b.getContext();
  int64_t kh = win.size[0], kw = win.size[1];
  SmallVector<Value> inputs;
  for (int64_t i = 0; i < kh; ++i)
    for (int64_t j = 0; j < kw; ++j)
      inputs.push_back(tensor::ExtractSliceOp::create(
          b, loc, padded, getAsIndexOpFoldResult(ctx, {0, i, j, 0}),
          getAsIndexOpFoldResult(ctx, win.output),
          getAsIndexOpFoldResult(ctx, {1, win.strides[0], win.strides[1], 1})));
  SmallVector<AffineMap> maps(inputs.size() + 1, b.getMultiDimIdentityMap(4));
  Type i32 = b.getI32Type();
  Value init = createEmpty(b, loc, win.output, i32);
  return buildGeneric(
             b, loc, inputs, init, maps,
             SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel),
             [&](OpBuilder &nb, Location l,
                 ValueRange args) -> SmallVector<Value> {
               Value max =
                   f32Constant(nb, l, -std::numeric_limits<double>::infinity());
               Value arg =
                   arith::ConstantOp::create(nb, l, nb.getI32IntegerAttr(0));
               for (int64_t k = 0; k < kh * kw; ++k) {
                 Value take = arith::CmpFOp::create(
                     nb, l, arith::CmpFPredicate::OGT, args[k], max);
                 max = arith::SelectOp::create(nb, l, take, args[k], max);
                 arg = arith::SelectOp::create(
                     nb, l, take,
                     arith::ConstantOp::create(nb, l, nb.getI32IntegerAttr(k)),
                     arg);
               }
               return {arg};
             })
      .front();
}

/// The argmax of each window (as unrolledArgmax) for large windows: a
/// generic with the window as reduction loops, accumulating (max, offset)
/// and keeping the smallest offset among equal maxima, so that the result
/// does not depend on the visiting order.
Value reducedArgmax(OpBuilder &b, Location loc, const Window &win,
                    Value padded) {
  MLIRContext *ctx = b.getContext();
  Type i32 = b.getI32Type();
  Value window = createEmpty(b, loc, win.size, b.getF32Type());
  Value maxInit = createFilledF32(b, loc, win.output,
                                  -std::numeric_limits<double>::infinity());
  Value argInit =
      createFilled(b, loc, win.output,
                   arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(0)));
  AffineExpr n, oh, ow, c, i, j;
  bindDims(ctx, n, oh, ow, c, i, j);
  AffineMap outMap = AffineMap::get(6, 0, {n, oh, ow, c}, ctx);
  AffineMap maps[] = {
      AffineMap::get(
          6, 0, {n, oh * win.strides[0] + i, ow * win.strides[1] + j, c}, ctx),
      AffineMap::get(6, 0, {i, j}, ctx), outMap, outMap};
  SmallVector<utils::IteratorType> iterators(4, utils::IteratorType::parallel);
  iterators.append(2, utils::IteratorType::reduction);
  int64_t kw = win.size[1];
  return buildGeneric(
             b, loc, ValueRange{padded, window}, ValueRange{maxInit, argInit},
             maps, iterators,
             [&](OpBuilder &nb, Location l,
                 ValueRange args) -> SmallVector<Value> {
               Value offset = arith::AddIOp::create(
                   nb, l,
                   arith::MulIOp::create(nb, l,
                                         linalg::IndexOp::create(nb, l, 4),
                                         indexConstant(nb, l, kw)),
                   linalg::IndexOp::create(nb, l, 5));
               Value k = arith::IndexCastOp::create(nb, l, i32, offset);
               Value greater = arith::CmpFOp::create(
                   nb, l, arith::CmpFPredicate::OGT, args[0], args[2]);
               Value tieFirst = arith::AndIOp::create(
                   nb, l,
                   arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OEQ,
                                         args[0], args[2]),
                   arith::CmpIOp::create(nb, l, arith::CmpIPredicate::slt, k,
                                         args[3]));
               Value take = arith::OrIOp::create(nb, l, greater, tieFirst);
               return {arith::SelectOp::create(nb, l, take, args[0], args[2]),
                       arith::SelectOp::create(nb, l, take, k, args[3])};
             })
      .back();
}

struct MaxPool2DGradLowering : OpConversionPattern<MaxPool2DGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(MaxPool2DGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Window win{op.getInput().getType().getShape(),
               op.getOutputGrad().getType().getShape(), op.getPoolSize(),
               op.getStrides(), op.getResolvedPads()};
    Type i32 = rewriter.getI32Type();

    Value padded = padSpatial(rewriter, loc, adaptor.getInput(), win.pads,
                              -std::numeric_limits<double>::infinity());
    Value argmax = win.size[0] * win.size[1] <= kMaxUnrolledWindow
                       ? unrolledArgmax(rewriter, loc, win, padded)
                       : reducedArgmax(rewriter, loc, win, padded);
    int64_t kw = win.size[1];

    Value dy = adaptor.getOutputGrad();
    rewriter.replaceOp(
        op, gatherWindows(
                rewriter, loc, win,
                [&](OpBuilder &b, Location l, ValueRange at, Value kh,
                    Value kwOffset) -> Value {
                  Value offset = arith::AddIOp::create(
                      b, l,
                      arith::MulIOp::create(b, l, kh, indexConstant(b, l, kw)),
                      kwOffset);
                  Value winner = tensor::ExtractOp::create(b, l, argmax, at);
                  Value mine = arith::CmpIOp::create(
                      b, l, arith::CmpIPredicate::eq,
                      arith::IndexCastOp::create(b, l, i32, offset), winner);
                  Value grad = tensor::ExtractOp::create(b, l, dy, at);
                  return arith::SelectOp::create(b, l, mine, grad,
                                                 f32Constant(b, l, 0.0));
                }));
    return success();
  }
};

struct AvgPool2DGradLowering : OpConversionPattern<AvgPool2DGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(AvgPool2DGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(op.getType());
    Window win{resultType.getShape(), op.getOutputGrad().getType().getShape(),
               op.getPoolSize(), op.getStrides(), op.getResolvedPads()};
    ArrayRef<int64_t> k = win.size, s = win.strides, in = win.input;
    bool padded = llvm::any_of(win.pads, [](int64_t p) { return p != 0; });

    // dy / (valid positions of its window), as the forward divides.
    Value scaled = buildElementwise(
        rewriter, loc, win.output, rewriter.getF32Type(),
        adaptor.getOutputGrad(),
        [&](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
          if (!padded)
            return {arith::DivFOp::create(b, l, args[0],
                                          f32Constant(b, l, k[0] * k[1]))};
          Value oh = linalg::IndexOp::create(b, l, 1);
          Value ow = linalg::IndexOp::create(b, l, 2);
          Value count = arith::MulIOp::create(
              b, l, windowValidCount(b, l, oh, s[0], win.pads[0], k[0], in[1]),
              windowValidCount(b, l, ow, s[1], win.pads[2], k[1], in[2]));
          Value count64 =
              arith::IndexCastOp::create(b, l, b.getI64Type(), count);
          Value divisor =
              arith::SIToFPOp::create(b, l, b.getF32Type(), count64);
          return {arith::DivFOp::create(b, l, args[0], divisor)};
        });

    rewriter.replaceOp(
        op, gatherWindows(rewriter, loc, win,
                          [&](OpBuilder &b, Location l, ValueRange at, Value,
                              Value) -> Value {
                            return tensor::ExtractOp::create(b, l, scaled, at);
                          }));
    return success();
  }
};

struct GlobalAvgPoolGradLowering : OpConversionPattern<GlobalAvgPoolGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(GlobalAvgPoolGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto resultType = cast<RankedTensorType>(op.getType());
    ArrayRef<int64_t> in = resultType.getShape();
    double count = double(in[1] * in[2]);
    AffineExpr n, h, w, c;
    bindDims(ctx, n, h, w, c);
    AffineMap maps[] = {AffineMap::get(4, 0, {n, c}, ctx),
                        rewriter.getMultiDimIdentityMap(4)};
    Value dx =
        buildGeneric(
            rewriter, loc, adaptor.getOutputGrad(),
            createEmpty(rewriter, loc, in, resultType.getElementType()), maps,
            SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel),
            [&](OpBuilder &b, Location l,
                ValueRange args) -> SmallVector<Value> {
              return {arith::DivFOp::create(b, l, args[0],
                                            f32Constant(b, l, count))};
            })
            .front();
    rewriter.replaceOp(op, dx);
    return success();
  }
};

} // namespace

void mlir::dlc::populatePoolingGradientToLinalgPatterns(
    RewritePatternSet &patterns) {
  patterns.add<AvgPool2DGradLowering, GlobalAvgPoolGradLowering,
               MaxPool2DGradLowering>(patterns.getContext());
}
