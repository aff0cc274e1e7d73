//===- FuseSoftmaxCrossEntropy.cpp - Loss and its gradient, fused ---------===//
//
// The training step computes the softmax cross-entropy of the logits in its
// forward part and the gradient of that loss in its backward part; each op
// computes the row max and the sum of exponentials on its own. One pattern
// replaces the pair with dlc.softmax_cross_entropy_with_grad, which computes
// them once. The pass description (Passes.td) lists when it must not fire.
//
//===----------------------------------------------------------------------===//

#include "dlc/Dialect/DLC/IR/DLCOps.h"
#include "dlc/Dialect/DLC/Transforms/Passes.h"

#include "mlir/IR/Dominance.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_DLCFUSESOFTMAXCROSSENTROPY
#include "dlc/Dialect/DLC/Transforms/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;
using namespace mlir::dlc;

namespace {

/// The users of `logits` of type OpTy that read `labels` as their labels.
/// Each reads `logits` through its one logits operand: no duplicates.
template <typename OpTy>
SmallVector<OpTy> readersOf(Value logits, Value labels) {
  SmallVector<OpTy> found;
  for (Operation *user : logits.getUsers())
    if (auto op = dyn_cast<OpTy>(user))
      if (op.getLogits() == logits && op.getLabels() == labels)
        found.push_back(op);
  return found;
}

/// Whether one op at `at` can compute what `replaced` compute: `operands`
/// are available there and every user of a replaced result comes after it.
bool canPlaceAt(Operation *at, ValueRange operands,
                ArrayRef<Operation *> replaced, DominanceInfo &dominance) {
  for (Value v : operands)
    if (!dominance.properlyDominates(v, at))
      return false;
  for (Operation *op : replaced)
    for (Operation *user : op->getUsers())
      if (!dominance.properlyDominates(at, user))
        return false;
  return true;
}

/// softmax_cross_entropy + softmax_cross_entropy_grad (same logits, same
/// labels) => softmax_cross_entropy_with_grad.
struct FuseSoftmaxCrossEntropyPair : OpRewritePattern<SoftmaxCrossEntropyOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(SoftmaxCrossEntropyOp loss,
                                PatternRewriter &rewriter) const override {
    Value logits = loss.getLogits(), labels = loss.getLabels();
    // One fused op yields one loss and one gradient. With two gradients of
    // the same loss (or two losses), which pair to fuse would be arbitrary;
    // the ops are left as they are.
    auto grads = readersOf<SoftmaxCrossEntropyGradOp>(logits, labels);
    if (grads.empty())
      return rewriter.notifyMatchFailure(
          loss, "no gradient op reads the same logits and labels");
    if (grads.size() > 1)
      return rewriter.notifyMatchFailure(
          loss, "several gradient ops read the same logits and labels");
    if (readersOf<SoftmaxCrossEntropyOp>(logits, labels).size() > 1)
      return rewriter.notifyMatchFailure(
          loss, "several losses read the same logits and labels");
    SoftmaxCrossEntropyGradOp grad = grads.front();

    // The fused op goes where the loss was when the seed (loss_grad) is
    // already defined there, as after canonicalize, which hoists the seed
    // constant; else where the gradient was, when the loss is used only
    // after it (by the return).
    SmallVector<Value> operands = {logits, labels, grad.getLossGrad()};
    SmallVector<Operation *> replaced = {loss, grad};
    DominanceInfo dominance(loss->getParentOp());
    Operation *at = nullptr;
    for (Operation *candidate : replaced)
      if (canPlaceAt(candidate, operands, replaced, dominance)) {
        at = candidate;
        break;
      }
    if (!at)
      return rewriter.notifyMatchFailure(
          loss, "no place where the loss_grad is defined and both results "
                "are not yet used");

    rewriter.setInsertionPoint(at);
    Location loc = rewriter.getFusedLoc({loss.getLoc(), grad.getLoc()});
    auto fused = SoftmaxCrossEntropyWithGradOp::create(
        rewriter, loc, logits, labels, grad.getLossGrad());
    rewriter.replaceOp(loss, fused.getLoss());
    rewriter.replaceOp(grad, fused.getLogitsGrad());
    return success();
  }
};

struct DLCFuseSoftmaxCrossEntropyPass
    : mlir::dlc::impl::DLCFuseSoftmaxCrossEntropyBase<
          DLCFuseSoftmaxCrossEntropyPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseSoftmaxCrossEntropyPair>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
