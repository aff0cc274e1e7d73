//===- Reshape.cpp - Lower dlc flatten, reshape and concat ----------------===//
//
// Row-major reshapes are tensor.collapse_shape / tensor.expand_shape, which
// bufferize to views (no copy). A general reshape collapses to 1-D and
// expands to the target, since a single reassociation need not exist.
// Concatenation inserts each input into an empty tensor at its offset along
// the axis; bufferization turns the inserts into copies into one buffer.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "dlc/Conversion/DLCToLinalg/DLCToLinalg.h"
#include "dlc/Dialect/DLC/IR/DLCOps.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlir::dlc;
using namespace mlir::dlc::lowering;

namespace {

/// Reshapes `input` to `resultType` (same element count, both ranks >= 1).
Value buildReshape(OpBuilder &b, Location loc, Value input,
                   RankedTensorType resultType) {
  auto type = cast<RankedTensorType>(input.getType());
  if (type == resultType)
    return input;
  Value flat = input;
  if (type.getRank() > 1) {
    ReassociationIndices all =
        llvm::to_vector(llvm::seq<int64_t>(0, type.getRank()));
    flat = tensor::CollapseShapeOp::create(
        b, loc,
        RankedTensorType::get({type.getNumElements()}, type.getElementType()),
        input, ArrayRef<ReassociationIndices>{all});
  }
  if (resultType.getRank() == 1)
    return flat;
  ReassociationIndices all =
      llvm::to_vector(llvm::seq<int64_t>(0, resultType.getRank()));
  return tensor::ExpandShapeOp::create(b, loc, resultType, flat,
                                       ArrayRef<ReassociationIndices>{all});
}

struct FlattenLowering : OpConversionPattern<FlattenOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(FlattenOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto resultType = cast<RankedTensorType>(op.getType());
    auto type = cast<RankedTensorType>(adaptor.getInput().getType());
    Value result;
    if (type.getRank() == 2) {
      result = adaptor.getInput();
    } else if (type.getRank() == 1) {
      result = tensor::ExpandShapeOp::create(
          rewriter, op.getLoc(), resultType, adaptor.getInput(),
          ArrayRef<ReassociationIndices>{{0, 1}});
    } else {
      ReassociationIndices features =
          llvm::to_vector(llvm::seq<int64_t>(1, type.getRank()));
      result = tensor::CollapseShapeOp::create(
          rewriter, op.getLoc(), resultType, adaptor.getInput(),
          ArrayRef<ReassociationIndices>{{0}, features});
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct ReshapeLowering : OpConversionPattern<ReshapeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ReshapeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto resultType = cast<RankedTensorType>(op.getType());
    auto type = cast<RankedTensorType>(adaptor.getInput().getType());
    if (type.getRank() == 0 || resultType.getRank() == 0)
      return rewriter.notifyMatchFailure(op, "reshape from or to a 0-D tensor");
    rewriter.replaceOp(op, buildReshape(rewriter, op.getLoc(),
                                        adaptor.getInput(), resultType));
    return success();
  }
};

struct ConcatLowering : OpConversionPattern<ConcatOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ConcatOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t rank = resultType.getRank();
    // I64Attr reads back as uint64_t: recover the sign before normalizing.
    int64_t axis = static_cast<int64_t>(op.getAxis());
    if (axis < 0)
      axis += rank;
    Value result = createEmpty(rewriter, loc, resultType.getShape(),
                               resultType.getElementType());
    int64_t offset = 0;
    for (Value input : adaptor.getInputs()) {
      auto type = cast<RankedTensorType>(input.getType());
      SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0));
      offsets[axis] = rewriter.getIndexAttr(offset);
      SmallVector<OpFoldResult> sizes =
          llvm::map_to_vector(type.getShape(), [&](int64_t d) -> OpFoldResult {
            return rewriter.getIndexAttr(d);
          });
      SmallVector<OpFoldResult> strides(rank, rewriter.getIndexAttr(1));
      result = tensor::InsertSliceOp::create(rewriter, loc, input, result,
                                             offsets, sizes, strides);
      offset += type.getDimSize(axis);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void mlir::dlc::populateReshapeToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<ConcatLowering, FlattenLowering, ReshapeLowering>(
      patterns.getContext());
}
