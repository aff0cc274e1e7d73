//===- LowerVectors.cpp - Vector lowering for the CPU pipeline ------------===//
//
// After bufferization the tiles of TileAndVectorize.cpp are vector.contract
// (and friends) between transfer_read / transfer_write on memrefs. This pass
// first hoists the accumulator transfers out of the reduction loops (they are
// loop invariant once the tensors became buffers), so that the accumulators
// stay in registers for a whole tile, then lowers the vector ops to the 1-D
// form that convert-vector-to-llvm maps onto SIMD instructions: a contraction
// becomes outer products (broadcast one input, FMA with a row of the other).
//
//===----------------------------------------------------------------------===//

#include "dlc/Target/CPU/Passes.h"

#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Linalg/Transforms/Hoisting.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_CPULOWERVECTORSPASS
#include "dlc/Target/CPU/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;
using namespace mlir::dlc;

namespace {

/// A vector.contract whose two operands are indexed alike and whose result
/// only drops dimensions (sum(a * b) over some dims, elementwise otherwise:
/// the batch-norm sum of squares after ReductionToContract) is a
/// multiplication and a multi_reduction. The outer-product lowering has no
/// matrix to work with there and unrolls it element by element.
struct ElementwiseContractToReduction
    : OpRewritePattern<vector::ContractionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(vector::ContractionOp op,
                                PatternRewriter &rewriter) const override {
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    if (op.getKind() != vector::CombiningKind::ADD || maps[0] != maps[1] ||
        !maps[0].isIdentity() || op.getLhsType() != op.getRhsType())
      return failure();
    // The result keeps the parallel dimensions, in order.
    SmallVector<bool> reduced;
    for (auto [d, iterator] : llvm::enumerate(op.getIteratorTypesArray()))
      reduced.push_back(iterator == vector::IteratorType::reduction);
    SmallVector<unsigned> kept;
    for (auto [d, isReduced] : llvm::enumerate(reduced))
      if (!isReduced)
        kept.push_back(d);
    if (maps[2] != AffineMap::getMultiDimMapWithTargets(maps[0].getNumDims(),
                                                        kept, op.getContext()))
      return failure();
    Value product =
        arith::MulFOp::create(rewriter, op.getLoc(), op.getLhs(), op.getRhs());
    rewriter.replaceOpWithNewOp<vector::MultiDimReductionOp>(
        op, product, op.getAcc(), reduced, vector::CombiningKind::ADD);
    return success();
  }
};

/// A transfer_write of `transpose(broadcast(v))` where the two only insert
/// and move unit dimensions writes v's elements in v's order: it becomes a
/// transfer_write of v whose permutation map drops those unit dimensions.
///
/// The vectorized tile of a filter gradient's convolution (output tile
/// [rows, 1, w, f]) reads its accumulator as vector<rows x w x f> (unit
/// dimension dropped by the map) but writes it as vector<rows x 1 x w x f>
/// through a broadcast and a transpose. With the two in one form,
/// hoistRedundantVectorTransfers keeps the accumulators in registers for the
/// whole reduction, instead of loading and storing them on every step (the
/// store stays in the loop in LLVM too: the operands are views of one
/// workspace, so it cannot prove they do not alias).
struct WriteWithoutUnitDims : OpRewritePattern<vector::TransferWriteOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(vector::TransferWriteOp write,
                                PatternRewriter &rewriter) const override {
    if (write.getMask() || !write.hasPureBufferSemantics())
      return failure();
    Value vector = write.getVector();
    auto vectorType = cast<VectorType>(vector.getType());
    int64_t rank = vectorType.getRank();
    SmallVector<int64_t> permutation =
        llvm::to_vector(llvm::seq<int64_t>(0, rank));
    if (auto transpose = vector.getDefiningOp<vector::TransposeOp>()) {
      permutation = llvm::to_vector(transpose.getPermutation());
      vector = transpose.getVector();
    }
    auto broadcast = vector.getDefiningOp<vector::BroadcastOp>();
    if (!broadcast)
      return failure();
    auto sourceType = dyn_cast<VectorType>(broadcast.getSourceType());
    if (!sourceType || sourceType.isScalable())
      return failure();
    // Only leading unit dimensions added: the broadcast's result shape is
    // [1, ..., 1] ++ the source's shape.
    int64_t added = rank - sourceType.getRank();
    ArrayRef<int64_t> shape = broadcast.getResultVectorType().getShape();
    if (added <= 0 || shape.drop_front(added) != sourceType.getShape() ||
        llvm::any_of(shape.take_front(added),
                     [](int64_t size) { return size != 1; }))
      return failure();
    // The written dimensions that come from the source, in order.
    SmallVector<AffineExpr> results;
    SmallVector<bool> inBounds;
    int64_t next = 0;
    AffineMap map = write.getPermutationMap();
    for (auto [position, origin] : llvm::enumerate(permutation)) {
      if (origin < added)
        continue;
      if (origin - added != next++)
        return failure();
      results.push_back(map.getResult(position));
      inBounds.push_back(write.isDimInBounds(position));
    }
    auto newMap = AffineMap::get(map.getNumDims(), 0, results, getContext());
    rewriter.replaceOpWithNewOp<vector::TransferWriteOp>(
        write, broadcast.getSource(), write.getBase(), write.getIndices(),
        AffineMapAttr::get(newMap), rewriter.getBoolArrayAttr(inBounds));
    return success();
  }
};

struct CPULowerVectorsPass
    : mlir::dlc::impl::CPULowerVectorsPassBase<CPULowerVectorsPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    MLIRContext *ctx = &getContext();

    // Accumulators into registers for the whole reduction (the pipeline ran
    // fold-memref-alias-ops first, so that the read and the write of an
    // accumulator name the same buffer and indices).
    {
      RewritePatternSet patterns(ctx);
      patterns.add<WriteWithoutUnitDims>(ctx);
      if (failed(applyPatternsGreedily(func, std::move(patterns))))
        return signalPassFailure();
    }
    linalg::hoistRedundantVectorTransfers(func);

    // Contractions to outer products; everything to 1-D vectors. The
    // canonicalizer is not mixed in: with these lowerings it loops forever.
    {
      RewritePatternSet patterns(ctx);
      patterns.add<ElementwiseContractToReduction>(ctx, /*benefit=*/2);
      vector::populateVectorContractLoweringPatterns(
          patterns, vector::VectorContractLowering::OuterProduct);
      vector::populateVectorTransposeLoweringPatterns(
          patterns, vector::VectorTransposeLowering::EltWise);
      vector::populateVectorMultiReductionLoweringPatterns(
          patterns, vector::VectorMultiReductionLowering::InnerParallel);
      vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
      vector::populateVectorShapeCastLoweringPatterns(patterns);
      vector::populateVectorBroadcastLoweringPatterns(patterns);
      vector::populateVectorTransferLoweringPatterns(patterns,
                                                     /*maxTransferRank=*/1);
      if (failed(applyPatternsGreedily(func, std::move(patterns))))
        return signalPassFailure();
    }

    // Transfers of rank > 1 to unrolled 1-D transfers, then to loads/stores.
    {
      RewritePatternSet patterns(ctx);
      populateVectorToSCFConversionPatterns(
          patterns, VectorTransferToSCFOptions().enableFullUnroll());
      vector::populateVectorTransferLoweringPatterns(patterns,
                                                     /*maxTransferRank=*/1);
      vector::populateVectorShapeCastLoweringPatterns(patterns);
      if (failed(applyPatternsGreedily(func, std::move(patterns))))
        return signalPassFailure();
    }
  }
};

} // namespace
