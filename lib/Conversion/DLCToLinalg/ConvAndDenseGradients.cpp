//===- ConvAndDenseGradients.cpp - Lower conv/dense backward ops ----------===//
//
// The backward convolutions are rewritten as forward convolutions, so that
// they reuse the linalg ops the CPU schedule tiles and vectorizes:
//
//  * conv2d_grad_input is the convolution of the output gradient, dilated by
//    the stride (s - 1 zeros between rows and columns) and padded by the
//    kernel extent minus the forward padding, with the filter flipped in
//    both spatial dimensions and its channel dimensions swapped (a
//    transposed convolution). With
//    Z[j] = dy[(j - (KH - 1) * d + pad_top) / s] (zero off the grid),
//    dx[h] = sum_kh Z[h + kh * d] * W[KH - 1 - kh]. Groups carry over: the
//    backward convolution has F input channels, C outputs and the same
//    groups. Strided without dilation, it is split instead into one
//    stride-1 convolution per phase (see Phase), which skips the zeros.
//  * conv2d_grad_filter swaps roles: with the padded input viewed as
//    [C, H, W, N] (channels as the batch, the batch as channels) and the
//    output gradient as a [OH, OW, N, F] filter,
//    dW[kh, kw, c, f] = sum_{oh, ow, n} x[n, oh * s + kh * d, ..., c] *
//    dy[n, oh, ow, f] is linalg.conv_2d_nhwc_hwcf with stride d and dilation
//    s, giving [C, KH, KW, F], transposed to HWCF. Grouped filters (no named
//    op reduces over the batch per group) use a linalg.generic over
//    (kh, kw, g, c, f | n, oh, ow).
//  * matmul uses the default linalg.matmul (the form the CPU schedule
//    handles) on operands transposed with linalg.transpose: lhs^T x rhs
//    transposes the lhs; lhs x rhs^T is computed as (rhs x lhs^T)^T, which
//    transposes the small operands of the dense input gradient rather than
//    its kernel.
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

using namespace mlir;
using namespace mlir::dlc;
using namespace mlir::dlc::lowering;

namespace {

/// linalg.transpose of `value` by `permutation` (result dim i = input dim
/// permutation[i]).
Value transpose(OpBuilder &b, Location loc, Value value,
                ArrayRef<int64_t> permutation) {
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<int64_t> shape;
  for (int64_t d : permutation)
    shape.push_back(type.getDimSize(d));
  Value init = createEmpty(b, loc, shape, type.getElementType());
  return linalg::TransposeOp::create(b, loc, value, init, permutation)
      ->getResult(0);
}

/// Where the rows (or columns) of the output gradient land in the dilated
/// and padded tensor Z of one spatial dimension: rows [first, first + count)
/// of dy go to rows offset, offset + stride, ... of Z, which has `extent`
/// rows. Rows of dy that only ever saw padding are cropped.
struct Placement {
  int64_t first, count, offset, extent;
};

Placement placeOutputGrad(int64_t input, int64_t output, int64_t kernel,
                          int64_t stride, int64_t dilation, int64_t padBefore) {
  int64_t window = (kernel - 1) * dilation;
  int64_t lead = window - padBefore; // Z row of dy row 0 (may be negative).
  Placement p;
  p.extent = input + window;
  p.first = lead < 0 ? (-lead + stride - 1) / stride : 0;
  // The last Z row is extent - 1; (extent - 1 - lead) = input - 1 + padBefore
  // is never negative.
  int64_t end = std::min(output, (p.extent - 1 - lead) / stride + 1);
  p.count = std::max<int64_t>(end - p.first, 0);
  p.offset = lead + p.first * stride;
  return p;
}

/// One phase of a strided input gradient along one spatial dimension: the
/// input rows r, r + s, r + 2s, ... (`count` of them) receive only the taps
/// k = k0, k0 + s, ... of the filter (`taps` of them). With those taps
/// flipped, the phase is a stride-1 correlation of the output gradient
/// shifted by `lead` (Z[j] = dy[j + lead], zero outside dy) with the taps at
/// `filterOffset`, `filterOffset + s`, ... of the flipped filter:
///   dx[r + s t] = sum_m Z[t + m] * Wt[filterOffset + s m].
/// (From o s + k - pad = r + s t: k = k0 (mod s), k0 = (r + pad) mod s.)
struct Phase {
  int64_t residue, count, taps, filterOffset, lead;
};

Phase phaseOf(int64_t residue, int64_t input, int64_t kernel, int64_t stride,
              int64_t padBefore) {
  Phase p;
  p.residue = residue;
  p.count = (input - residue + stride - 1) / stride;
  int64_t k0 = (residue + padBefore) % stride;
  p.taps = k0 < kernel ? (kernel - k0 + stride - 1) / stride : 0;
  p.filterOffset = kernel - 1 - k0 - stride * (p.taps - 1);
  p.lead = (residue + padBefore - k0) / stride - (p.taps - 1);
  return p;
}

struct Conv2DGradInputLowering : OpConversionPattern<Conv2DGradInputOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(Conv2DGradInputOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto resultType = cast<RankedTensorType>(op.getType());
    ArrayRef<int64_t> in = resultType.getShape();
    ArrayRef<int64_t> out = op.getOutputGrad().getType().getShape();
    ArrayRef<int64_t> fil = op.getFilter().getType().getShape();
    ArrayRef<int64_t> s = op.getStrides(), d = op.getDilations();
    SmallVector<int64_t, 4> pads = op.getResolvedPads();
    int64_t groups = op.getGroups();
    int64_t kh = fil[0], kw = fil[1], cg = fil[2], f = fil[3];
    int64_t fg = f / groups;

    auto indices = [&](ArrayRef<int64_t> values) {
      return getAsIndexOpFoldResult(ctx, values);
    };

    // The backward filter [KH, KW, F / G, C]:
    // Wt[i, j, fl, g * C/G + cl] = W[KH - 1 - i, KW - 1 - j, cl, g * F/G + fl],
    // built on grouped 5-D views of both.
    Value grouped =
        reshapeTo(rewriter, loc, adaptor.getFilter(), {kh, kw, cg, groups, fg},
                  {{0}, {1}, {2}, {3, 4}});
    AffineExpr i, j, fl, g, cl;
    bindDims(ctx, i, j, fl, g, cl);
    AffineMap maps[] = {
        AffineMap::get(5, 0, {kh - 1 - i, kw - 1 - j, cl, g, fl}, ctx),
        AffineMap::get(5, 0, {i, j, fl, g, cl}, ctx)};
    Value flippedInit = createEmpty(rewriter, loc, {kh, kw, fg, groups, cg},
                                    resultType.getElementType());
    Value flipped = buildGeneric(rewriter, loc, grouped, flippedInit, maps,
                                 SmallVector<utils::IteratorType>(
                                     5, utils::IteratorType::parallel),
                                 [](OpBuilder &, Location, ValueRange args) {
                                   return SmallVector<Value>{args[0]};
                                 })
                        .front();
    Value backwardFilter =
        reshapeTo(rewriter, loc, flipped, {kh, kw, fg, groups * cg},
                  {{0}, {1}, {2}, {3, 4}});
    Value dy = adaptor.getOutputGrad();

    // A strided gradient as s_h x s_w stride-1 convolutions, one per phase
    // (the input rows and columns of one residue modulo the stride), each
    // with only the filter taps that reach its positions, written into
    // every s-th row and column of dx. The dilated form below convolves
    // s - 1 zeros between rows and columns of dy: with stride 2, three
    // quarters of its multiply-adds are by zero (resnet_small's s2_conv1
    // and s3_conv1 input gradients: 12.4 ms of an 87 ms step).
    if ((s[0] > 1 || s[1] > 1) && d[0] == 1 && d[1] == 1) {
      Value dx = createEmpty(rewriter, loc, in, resultType.getElementType());
      for (int64_t rh = 0; rh < std::min(s[0], in[1]); ++rh) {
        for (int64_t rw = 0; rw < std::min(s[1], in[2]); ++rw) {
          Phase ph = phaseOf(rh, in[1], kh, s[0], pads[0]);
          Phase pw = phaseOf(rw, in[2], kw, s[1], pads[2]);
          SmallVector<int64_t> shape = {in[0], ph.count, pw.count, in[3]};
          // The rows of dy that Z reads: [first, end) of dy, the rest of
          // Z's `taps - 1 + count` rows are zero padding.
          auto window = [](const Phase &p, int64_t extent) {
            int64_t first = std::max<int64_t>(0, p.lead);
            int64_t end = std::min(extent, p.count + p.taps - 1 + p.lead);
            return std::make_pair(first, end);
          };
          auto [firstH, endH] = window(ph, out[1]);
          auto [firstW, endW] = window(pw, out[2]);
          Value part = createFilledF32(rewriter, loc, shape, 0.0);
          if (ph.taps > 0 && pw.taps > 0 && firstH < endH && firstW < endW) {
            Value z = dy;
            if (firstH != 0 || endH != out[1] || firstW != 0 || endW != out[2])
              z = tensor::ExtractSliceOp::create(
                  rewriter, loc, dy, indices({0, firstH, firstW, 0}),
                  indices({out[0], endH - firstH, endW - firstW, f}),
                  indices({1, 1, 1, 1}));
            z = padSpatial(
                rewriter, loc, z,
                {firstH - ph.lead, ph.count + ph.taps - 1 + ph.lead - endH,
                 firstW - pw.lead, pw.count + pw.taps - 1 + pw.lead - endW},
                0.0);
            Value taps = tensor::ExtractSliceOp::create(
                rewriter, loc, backwardFilter,
                indices({ph.filterOffset, pw.filterOffset, 0, 0}),
                indices({ph.taps, pw.taps, fg, groups * cg}),
                indices({s[0], s[1], 1, 1}));
            part = buildConv2D(rewriter, loc, z, taps, part, groups, {1, 1},
                               {1, 1});
          }
          dx = tensor::InsertSliceOp::create(
              rewriter, loc, part, dx, indices({0, rh, rw, 0}), indices(shape),
              indices({1, s[0], s[1], 1}));
        }
      }
      rewriter.replaceOp(op, dx);
      return success();
    }

    Placement rows = placeOutputGrad(in[1], out[1], kh, s[0], d[0], pads[0]);
    Placement cols = placeOutputGrad(in[2], out[2], kw, s[1], d[1], pads[2]);
    Value zeros = createFilledF32(rewriter, loc, in, 0.0);
    if (rows.count == 0 || cols.count == 0) {
      // Every output position saw only padding.
      rewriter.replaceOp(op, zeros);
      return success();
    }

    // Z: dy cropped to the rows that matter, dilated and padded.
    if (rows.count != out[1] || cols.count != out[2])
      dy = tensor::ExtractSliceOp::create(
          rewriter, loc, dy, indices({0, rows.first, cols.first, 0}),
          indices({out[0], rows.count, cols.count, f}), indices({1, 1, 1, 1}));
    Value z;
    if (s[0] == 1 && s[1] == 1) {
      z = padSpatial(rewriter, loc, dy,
                     {rows.offset, rows.extent - rows.offset - rows.count,
                      cols.offset, cols.extent - cols.offset - cols.count},
                     0.0);
    } else {
      Value zFill = createFilledF32(rewriter, loc,
                                    {in[0], rows.extent, cols.extent, f}, 0.0);
      z = tensor::InsertSliceOp::create(
          rewriter, loc, dy, zFill, indices({0, rows.offset, cols.offset, 0}),
          indices({out[0], rows.count, cols.count, f}),
          indices({1, s[0], s[1], 1}));
    }

    rewriter.replaceOp(op, buildConv2D(rewriter, loc, z, backwardFilter, zeros,
                                       groups, {1, 1}, d));
    return success();
  }
};

struct Conv2DGradFilterLowering : OpConversionPattern<Conv2DGradFilterOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(Conv2DGradFilterOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto resultType = cast<RankedTensorType>(op.getType());
    ArrayRef<int64_t> fil = resultType.getShape();
    ArrayRef<int64_t> out = op.getOutputGrad().getType().getShape();
    ArrayRef<int64_t> s = op.getStrides(), d = op.getDilations();
    int64_t groups = op.getGroups();
    int64_t kh = fil[0], kw = fil[1], cg = fil[2], f = fil[3];

    Value x = padSpatial(rewriter, loc, adaptor.getInput(),
                         op.getResolvedPads(), 0.0);
    Value dy = adaptor.getOutputGrad();
    ArrayRef<int64_t> in = cast<RankedTensorType>(x.getType()).getShape();

    // With --reduction-chunk, one filter gradient per chunk of samples,
    // added in treeSum's order.
    int64_t chunk = getReductionChunk(op);

    if (groups == 1) {
      auto partial = [&](ValueRange slices) -> SmallVector<Value> {
        Value xT = transpose(rewriter, loc, slices[0], {3, 1, 2, 0});
        Value dyT = transpose(rewriter, loc, slices[1], {1, 2, 0, 3});
        Value init = createFilledF32(rewriter, loc, {cg, kh, kw, f}, 0.0);
        return {linalg::Conv2DNhwcHwcfOp::create(
                    rewriter, loc, TypeRange{init.getType()},
                    ValueRange{xT, dyT}, ValueRange{init},
                    rewriter.getI64VectorAttr(d), rewriter.getI64VectorAttr(s))
                    .getResult(0)};
      };
      Value conv =
          treeSumChunks(
              rewriter, loc,
              mapBatchChunks(rewriter, loc, ValueRange{x, dy}, chunk, partial))
              .front();
      rewriter.replaceOp(op, transpose(rewriter, loc, conv, {1, 2, 0, 3}));
      return success();
    }

    int64_t fg = f / groups;
    auto partial = [&](ValueRange slices) -> SmallVector<Value> {
      int64_t samples =
          cast<RankedTensorType>(slices[0].getType()).getDimSize(0);
      Value groupedX = reshapeTo(rewriter, loc, slices[0],
                                 {samples, in[1], in[2], groups, cg},
                                 {{0}, {1}, {2}, {3, 4}});
      Value groupedDy = reshapeTo(rewriter, loc, slices[1],
                                  {samples, out[1], out[2], groups, fg},
                                  {{0}, {1}, {2}, {3, 4}});
      Value init =
          createFilledF32(rewriter, loc, {kh, kw, cg, groups, fg}, 0.0);
      // Loops: i, j, g, c, k | n, oh, ow.
      AffineExpr i, j, g, c, k, n, oh, ow;
      bindDims(ctx, i, j, g, c, k, n, oh, ow);
      AffineMap maps[] = {
          AffineMap::get(
              8, 0, {n, oh * s[0] + i * d[0], ow * s[1] + j * d[1], g, c}, ctx),
          AffineMap::get(8, 0, {n, oh, ow, g, k}, ctx),
          AffineMap::get(8, 0, {i, j, c, g, k}, ctx)};
      SmallVector<utils::IteratorType> iterators(5,
                                                 utils::IteratorType::parallel);
      iterators.append(3, utils::IteratorType::reduction);
      return buildGeneric(
          rewriter, loc, ValueRange{groupedX, groupedDy}, init, maps, iterators,
          [](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
            Value product = arith::MulFOp::create(b, l, args[0], args[1]);
            return {arith::AddFOp::create(b, l, args[2], product)};
          });
    };
    Value grad = treeSumChunks(rewriter, loc,
                               mapBatchChunks(rewriter, loc, ValueRange{x, dy},
                                              chunk, partial))
                     .front();
    rewriter.replaceOp(
        op, reshapeTo(rewriter, loc, grad, fil, {{0}, {1}, {2}, {3, 4}}));
    return success();
  }
};

struct MatmulLowering : OpConversionPattern<MatmulOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(MatmulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value lhs = adaptor.getLhs(), rhs = adaptor.getRhs();
    auto product = [&](Value a, Value b) -> Value {
      int64_t m = cast<RankedTensorType>(a.getType()).getDimSize(0);
      int64_t n = cast<RankedTensorType>(b.getType()).getDimSize(1);
      Value init = createFilledF32(rewriter, loc, {m, n}, 0.0);
      return linalg::MatmulOp::create(rewriter, loc, init.getType(),
                                      ValueRange{a, b}, ValueRange{init})
          .getResult(0);
    };
    if (!op.getTransposeRhs()) {
      if (!op.getTransposeLhs()) {
        rewriter.replaceOp(op, product(lhs, rhs));
        return success();
      }
      // lhs^T x rhs reduces over the rows of both, the batch of a dense
      // weight gradient: with --reduction-chunk, one product per chunk.
      int64_t chunk = getReductionChunk(op);
      rewriter.replaceOp(
          op, treeSumChunks(
                  rewriter, loc,
                  mapBatchChunks(rewriter, loc, ValueRange{lhs, rhs}, chunk,
                                 [&](ValueRange slices) -> SmallVector<Value> {
                                   return {product(transpose(rewriter, loc,
                                                             slices[0], {1, 0}),
                                                   slices[1])};
                                 }))
                  .front());
      return success();
    }
    // lhs x rhs^T = (rhs x lhs^T)^T: the large operand of the dense input
    // gradient (the [K, M] kernel of dy x kernel^T) is then read in place,
    // and the product has the batch as its few columns, the shape the CPU
    // schedule keeps in cache (a wide product streams its right operand
    // once per row strip).
    Value lhsT =
        op.getTransposeLhs() ? lhs : transpose(rewriter, loc, lhs, {1, 0});
    rewriter.replaceOp(op,
                       transpose(rewriter, loc, product(rhs, lhsT), {1, 0}));
    return success();
  }
};

struct ChannelSumLowering : OpConversionPattern<ChannelSumOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ChannelSumOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    // Bias gradients reduce over the batch (dimension 0): with
    // --reduction-chunk, one sum per chunk.
    Value input = adaptor.getInput();
    int64_t chunk = getReductionChunk(op);
    if (cast<RankedTensorType>(input.getType()).getRank() < 2)
      chunk = 0; // A [C] input has no batch dimension.
    Location loc = op.getLoc();
    rewriter.replaceOp(
        op,
        treeSumChunks(
            rewriter, loc,
            mapBatchChunks(rewriter, loc, input, chunk,
                           [&](ValueRange slices) -> SmallVector<Value> {
                             return {sumPerChannel(rewriter, loc, slices[0])};
                           }))
            .front());
    return success();
  }
};

} // namespace

void mlir::dlc::populateConvAndDenseGradientToLinalgPatterns(
    RewritePatternSet &patterns) {
  patterns.add<ChannelSumLowering, Conv2DGradFilterLowering,
               Conv2DGradInputLowering, MatmulLowering>(patterns.getContext());
}
