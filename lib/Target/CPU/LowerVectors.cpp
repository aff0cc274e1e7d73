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

struct CPULowerVectorsPass
    : mlir::dlc::impl::CPULowerVectorsPassBase<CPULowerVectorsPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    MLIRContext *ctx = &getContext();

    // Accumulators into registers for the whole reduction (the pipeline ran
    // fold-memref-alias-ops first, so that the read and the write of an
    // accumulator name the same buffer and indices).
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
