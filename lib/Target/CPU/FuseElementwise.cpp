//===- FuseElementwise.cpp - Merge chains of elementwise generics ---------===//
//
// Upstream's elementwise fusion patterns, alone: a producer is fused into
// its consumer only when the consumer is its single user, so that nothing
// is computed twice. The reshape-propagation patterns that
// linalg-fuse-elementwise-ops adds are deliberately left out (they rewrite
// named contractions into generics the CPU schedule does not recognize).
//
//===----------------------------------------------------------------------===//

#include "dlc/Target/CPU/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_CPUFUSEELEMENTWISEPASS
#include "dlc/Target/CPU/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;
using namespace mlir::dlc;

namespace {

struct CPUFuseElementwisePass
    : mlir::dlc::impl::CPUFuseElementwisePassBase<CPUFuseElementwisePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    linalg::populateElementwiseOpsFusionPatterns(
        patterns, [](OpOperand *fused) {
          Operation *producer = fused->get().getDefiningOp();
          return producer && producer->hasOneUse();
        });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
