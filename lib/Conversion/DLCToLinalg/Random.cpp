//===- Random.cpp - Lower dlc dropout and data augmentation to linalg -----===//
//
// Without a key these ops have inference semantics: dropout, random_flip and
// random_translation are the identity, random_crop is a center crop (offset
// (H - h) / 2, rounded down, as Keras).
//
// With a key they draw from Philox4x32-10 (LoweringUtils.h; the bit-exact
// C++ reference is dlc/Support/Philox.h). A draw is the four output words of
//   philox4x32(counter = (index lo, index hi, stream lo, stream hi),
//              key     = (key lo, key hi))
// and u(word) = (word >> 8) * 2^-24 is a uniform float in [0, 1).
//
// In a data-parallel @train_step (`dlc.data_parallel`) the batch index n
// counts from the rank's first sample in the global batch (the runtime's
// dlc_rt_sample_offset), so that the draws of a sample do not depend on
// the number of ranks; alone the offset is 0.
//
//  * dropout: index = the row-major linear index of the element; the element
//    is kept when u(word0) >= rate, and kept elements are scaled by
//    1 / (1 - rate).
//  * random_flip: index = the image n; the image is mirrored horizontally
//    (width axis) when u(word0) < 0.5 and vertically (height axis) when
//    u(word1) < 0.5, for the directions the mode enables.
//  * random_translation: index = n; the image moves by
//    dy = round((hl + u(word0) * (hu - hl)) * H) rows and
//    dx = round((wl + u(word1) * (wu - wl)) * W) columns (round half away
//    from zero), i.e. out[y][x] = in[y - dy][x - dx], reading outside the
//    image through fill_mode: reflect (d c b a | a b c d | d c b a), wrap,
//    nearest, or constant fill_value.
//  * random_crop: index = n; the crop starts at row
//    min(floor(u(word0) * (H - h + 1)), H - h) and column
//    min(floor(u(word1) * (W - w + 1)), W - w).
//
// Per-image draws are computed once per image in a small generic, then read
// by the gathering generic through a map onto the batch dimension.
//
//===----------------------------------------------------------------------===//

#include "Collectives.h"
#include "LoweringUtils.h"
#include "dlc/Conversion/DLCToLinalg/DLCToLinalg.h"
#include "dlc/Dialect/DLC/IR/DLCOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlir::dlc;
using namespace mlir::dlc::lowering;

namespace {

using DrawFn = llvm::function_ref<SmallVector<Value>(
    OpBuilder &b, Location loc, std::array<Value, 4> words)>;

/// One generic over the batch that draws per image and returns `count` i32
/// tensors of shape [N], computed by `fn` from the image's four words.
/// Image n draws with index n + `sampleOffset` (null: 0), its index in the
/// global batch of a data-parallel step.
SmallVector<Value> buildPerImageDraws(OpBuilder &b, Location loc, Value key,
                                      int64_t stream, int64_t batch,
                                      unsigned count, Value sampleOffset,
                                      DrawFn fn) {
  SmallVector<Value> outputs;
  for (unsigned i = 0; i < count; ++i)
    outputs.push_back(createEmpty(b, loc, {batch}, b.getI32Type()));
  SmallVector<AffineMap> maps(count, b.getMultiDimIdentityMap(1));
  return buildGeneric(
      b, loc, ValueRange{}, outputs, maps, {utils::IteratorType::parallel},
      [&](OpBuilder &nb, Location l, ValueRange) -> SmallVector<Value> {
        Value n = linalg::IndexOp::create(nb, l, 0);
        if (sampleOffset)
          n = arith::AddIOp::create(nb, l, n, sampleOffset);
        return fn(nb, l, buildDraw(nb, l, key, stream, n));
      });
}

/// A generic over the NHWC `resultShape` that reads the per-image i32 tensors
/// `perImage` (as block arguments) and computes each element with `body`.
Value buildGather(OpBuilder &b, Location loc, ArrayRef<int64_t> resultShape,
                  ValueRange perImage, GenericBodyFn body) {
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineMap> maps(perImage.size(),
                              AffineMap::get(4, 0, getAffineDimExpr(0, ctx)));
  maps.push_back(b.getMultiDimIdentityMap(4));
  Value init = createEmpty(b, loc, resultShape, b.getF32Type());
  SmallVector<utils::IteratorType> parallel(4, utils::IteratorType::parallel);
  return buildGeneric(b, loc, perImage, init, maps, parallel,
                      [&](OpBuilder &nb, Location l, ValueRange args) {
                        return body(nb, l, args.drop_back());
                      })
      .front();
}

/// An i32 as an index.
Value toIndex(OpBuilder &b, Location loc, Value i32) {
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), i32);
}

/// The 1 bit "u(word) < 0.5" as an i32.
Value coinFlip(OpBuilder &b, Location loc, Value word) {
  Value heads = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT,
                                      buildUniform(b, loc, word),
                                      f32Constant(b, loc, 0.5));
  return arith::ExtUIOp::create(b, loc, b.getI32Type(), heads);
}

struct DropoutLowering : OpConversionPattern<DropoutOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(DropoutOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value key = adaptor.getKey();
    if (!key) {
      rewriter.replaceOp(op, adaptor.getInput());
      return success();
    }
    auto type = cast<RankedTensorType>(op.getType());
    double rate = op.getRate().convertToDouble();
    int64_t stream = op.getStream();
    ArrayRef<int64_t> shape = type.getShape();
    // Data-parallel: the element's index in the global batch, whose rows
    // before this rank's are offset x (elements per row).
    Value elementOffset;
    if (!shape.empty())
      if (Value rows = buildSampleOffset(rewriter, op.getLoc(), op))
        elementOffset = arith::MulIOp::create(
            rewriter, op.getLoc(), rows,
            indexConstant(rewriter, op.getLoc(),
                          type.getNumElements() / shape[0]));
    Value result = buildElementwise(
        rewriter, op.getLoc(), shape, type.getElementType(), adaptor.getInput(),
        [&](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
          // Row-major linear index of this element.
          Value linear = shape.empty()
                             ? indexConstant(b, l, 0)
                             : Value(linalg::IndexOp::create(b, l, 0));
          for (int64_t d = 1, e = shape.size(); d < e; ++d) {
            linear = arith::MulIOp::create(b, l, linear,
                                           indexConstant(b, l, shape[d]));
            linear = arith::AddIOp::create(b, l, linear,
                                           linalg::IndexOp::create(b, l, d));
          }
          if (elementOffset)
            linear = arith::AddIOp::create(b, l, linear, elementOffset);
          std::array<Value, 4> words = buildDraw(b, l, key, stream, linear);
          Value keep = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGE,
                                             buildUniform(b, l, words[0]),
                                             f32Constant(b, l, rate));
          Value scaled = arith::MulFOp::create(
              b, l, args[0], f32Constant(b, l, 1.0 / (1.0 - rate)));
          return {arith::SelectOp::create(b, l, keep, scaled,
                                          f32Constant(b, l, 0.0))};
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct RandomFlipLowering : OpConversionPattern<RandomFlipOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(RandomFlipOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value key = adaptor.getKey();
    if (!key) {
      rewriter.replaceOp(op, adaptor.getInput());
      return success();
    }
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    ArrayRef<int64_t> shape = op.getInput().getType().getShape();
    bool horizontal = op.getMode() != FlipMode::vertical;
    bool vertical = op.getMode() != FlipMode::horizontal;
    SmallVector<Value> flips = buildPerImageDraws(
        rewriter, loc, key, op.getStream(), shape[0], 2,
        buildSampleOffset(rewriter, loc, op),
        [&](OpBuilder &b, Location l,
            std::array<Value, 4> words) -> SmallVector<Value> {
          Value no = arith::ConstantOp::create(b, l, b.getI32IntegerAttr(0));
          return {horizontal ? coinFlip(b, l, words[0]) : no,
                  vertical ? coinFlip(b, l, words[1]) : no};
        });
    Value result = buildGather(
        rewriter, loc, shape, flips,
        [&](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
          // Mirrors index i of a dimension of `size` when `flip` is set.
          auto mirror = [&](Value flip, unsigned dim, int64_t size) -> Value {
            Value i = linalg::IndexOp::create(b, l, dim);
            Value mirrored =
                arith::SubIOp::create(b, l, indexConstant(b, l, size - 1), i);
            Value set = arith::TruncIOp::create(b, l, b.getI1Type(), flip);
            return arith::SelectOp::create(b, l, set, mirrored, i);
          };
          Value indices[] = {
              linalg::IndexOp::create(b, l, 0), mirror(args[1], 1, shape[1]),
              mirror(args[0], 2, shape[2]), linalg::IndexOp::create(b, l, 3)};
          return {tensor::ExtractOp::create(b, l, input, indices)};
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// Maps a possibly out-of-range source index `i` into [0, size) by `mode`;
/// for `constant`, also returns whether `i` was inside.
std::pair<Value, Value> applyFillMode(OpBuilder &b, Location loc, Value i,
                                      int64_t size, FillMode mode) {
  Value zero = indexConstant(b, loc, 0);
  Value sizeV = indexConstant(b, loc, size);
  auto positiveMod = [&](Value v, int64_t m) -> Value {
    Value mV = indexConstant(b, loc, m);
    Value r = arith::RemSIOp::create(b, loc, v, mV);
    return arith::RemSIOp::create(b, loc, arith::AddIOp::create(b, loc, r, mV),
                                  mV);
  };
  auto clamp = [&](Value v) -> Value {
    return arith::MinSIOp::create(b, loc,
                                  arith::MaxSIOp::create(b, loc, v, zero),
                                  indexConstant(b, loc, size - 1));
  };
  switch (mode) {
  case FillMode::reflect: {
    // Period 2 * size: a b c d | d c b a.
    Value m = positiveMod(i, 2 * size);
    Value back =
        arith::SubIOp::create(b, loc, indexConstant(b, loc, 2 * size - 1), m);
    Value inFirstHalf =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, m, sizeV);
    return {arith::SelectOp::create(b, loc, inFirstHalf, m, back), nullptr};
  }
  case FillMode::wrap:
    return {positiveMod(i, size), nullptr};
  case FillMode::nearest:
    return {clamp(i), nullptr};
  case FillMode::constant: {
    Value geZero =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, i, zero);
    Value ltSize =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, i, sizeV);
    return {clamp(i), arith::AndIOp::create(b, loc, geZero, ltSize)};
  }
  }
  llvm_unreachable("unknown fill mode");
}

struct RandomTranslationLowering : OpConversionPattern<RandomTranslationOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(RandomTranslationOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value key = adaptor.getKey();
    if (!key) {
      rewriter.replaceOp(op, adaptor.getInput());
      return success();
    }
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    ArrayRef<int64_t> shape = op.getInput().getType().getShape();
    ArrayRef<float> hf = op.getHeightFactor(), wf = op.getWidthFactor();
    FillMode mode = op.getFillMode();
    double fillValue = op.getFillValue().convertToDouble();

    SmallVector<Value> shifts = buildPerImageDraws(
        rewriter, loc, key, op.getStream(), shape[0], 2,
        buildSampleOffset(rewriter, loc, op),
        [&](OpBuilder &b, Location l,
            std::array<Value, 4> words) -> SmallVector<Value> {
          // round((lower + u * (upper - lower)) * size) as an i32.
          auto shift = [&](Value word, ArrayRef<float> factor,
                           int64_t size) -> Value {
            Value u = buildUniform(b, l, word);
            Value f = arith::AddFOp::create(
                b, l, f32Constant(b, l, factor[0]),
                arith::MulFOp::create(
                    b, l, u, f32Constant(b, l, double(factor[1]) - factor[0])));
            Value pixels = math::RoundOp::create(
                b, l, arith::MulFOp::create(b, l, f, f32Constant(b, l, size)));
            return arith::FPToSIOp::create(b, l, b.getI32Type(), pixels);
          };
          return {shift(words[0], hf, shape[1]), shift(words[1], wf, shape[2])};
        });

    Value result = buildGather(
        rewriter, loc, shape, shifts,
        [&](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
          Value y = arith::SubIOp::create(
              b, l, linalg::IndexOp::create(b, l, 1), toIndex(b, l, args[0]));
          Value x = arith::SubIOp::create(
              b, l, linalg::IndexOp::create(b, l, 2), toIndex(b, l, args[1]));
          auto [srcY, insideY] = applyFillMode(b, l, y, shape[1], mode);
          auto [srcX, insideX] = applyFillMode(b, l, x, shape[2], mode);
          Value indices[] = {linalg::IndexOp::create(b, l, 0), srcY, srcX,
                             linalg::IndexOp::create(b, l, 3)};
          Value value = tensor::ExtractOp::create(b, l, input, indices);
          if (mode != FillMode::constant)
            return {value};
          Value inside = arith::AndIOp::create(b, l, insideY, insideX);
          return {arith::SelectOp::create(b, l, inside, value,
                                          f32Constant(b, l, fillValue))};
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct RandomCropLowering : OpConversionPattern<RandomCropOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(RandomCropOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto resultType = cast<RankedTensorType>(op.getType());
    ArrayRef<int64_t> in = op.getInput().getType().getShape();
    int64_t height = op.getHeight(), width = op.getWidth();
    int64_t slackH = in[1] - height, slackW = in[2] - width;

    if (!adaptor.getKey()) {
      SmallVector<OpFoldResult> offsets = {
          rewriter.getIndexAttr(0), rewriter.getIndexAttr(slackH / 2),
          rewriter.getIndexAttr(slackW / 2), rewriter.getIndexAttr(0)};
      SmallVector<OpFoldResult> sizes = llvm::map_to_vector(
          resultType.getShape(),
          [&](int64_t d) -> OpFoldResult { return rewriter.getIndexAttr(d); });
      SmallVector<OpFoldResult> strides(4, rewriter.getIndexAttr(1));
      rewriter.replaceOp(
          op, tensor::ExtractSliceOp::create(rewriter, loc, resultType, input,
                                             offsets, sizes, strides));
      return success();
    }

    SmallVector<Value> offsets = buildPerImageDraws(
        rewriter, loc, adaptor.getKey(), op.getStream(), in[0], 2,
        buildSampleOffset(rewriter, loc, op),
        [&](OpBuilder &b, Location l,
            std::array<Value, 4> words) -> SmallVector<Value> {
          // min(floor(u * (slack + 1)), slack) as an i32.
          auto offset = [&](Value word, int64_t slack) -> Value {
            Value scaled = arith::MulFOp::create(b, l, buildUniform(b, l, word),
                                                 f32Constant(b, l, slack + 1));
            Value o = arith::FPToSIOp::create(b, l, b.getI32Type(), scaled);
            return arith::MinSIOp::create(
                b, l, o,
                arith::ConstantOp::create(
                    b, l, b.getI32IntegerAttr(static_cast<int32_t>(slack))));
          };
          return {offset(words[0], slackH), offset(words[1], slackW)};
        });
    Value result = buildGather(
        rewriter, loc, resultType.getShape(), offsets,
        [&](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
          Value indices[] = {
              linalg::IndexOp::create(b, l, 0),
              arith::AddIOp::create(b, l, linalg::IndexOp::create(b, l, 1),
                                    toIndex(b, l, args[0])),
              arith::AddIOp::create(b, l, linalg::IndexOp::create(b, l, 2),
                                    toIndex(b, l, args[1])),
              linalg::IndexOp::create(b, l, 3)};
          return {tensor::ExtractOp::create(b, l, input, indices)};
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void mlir::dlc::populateRandomToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<DropoutLowering, RandomCropLowering, RandomFlipLowering,
               RandomTranslationLowering>(patterns.getContext());
}
