//===- FuseConvBnRelu.cpp - conv + batch norm + relu, fused ---------------===//
//
// Two patterns over the training step, independent of each other: the
// forward chain conv2d -> batch_norm_train [-> relu] becomes conv2d_bn_stats
// + batch_norm_train_apply, the backward chain relu_grad -> batch_norm_grad
// becomes batch_norm_relu_grad. Both keep every value the rest of the step
// reads (the fused ops return what the chains returned), so the rewrite is
// local. The pass description (Passes.td) lists when each must not fire.
//
//===----------------------------------------------------------------------===//

#include "dlc/Dialect/DLC/IR/DLCOps.h"
#include "dlc/Dialect/DLC/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_DLCFUSECONVBNRELU
#include "dlc/Dialect/DLC/Transforms/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;
using namespace mlir::dlc;

namespace {

/// Builds `name(operands) {attrs}` with the types its shape rule infers.
/// The operands come from ops that verified, so the rule cannot fail.
Operation *createInferred(PatternRewriter &rewriter, Location loc,
                          StringRef name, ValueRange operands,
                          ArrayRef<NamedAttribute> attrs) {
  OperationState state(loc, name);
  state.addOperands(operands);
  state.addAttributes(attrs);
  FailureOr<Operation *> created = createWithInferredTypes(rewriter, state);
  assert(succeeded(created) && "fused op rejected verified operands");
  return *created;
}

/// Whether `grad` (a batch_norm_grad or batch_norm_relu_grad) differentiates
/// `bn`: it reads the same input and `bn`'s batch statistics.
template <typename GradOp>
bool differentiates(GradOp grad, BatchNormTrainOp bn) {
  return grad && grad.getInput() == bn.getInput() &&
         grad.getMean() == bn.getBatchMean() &&
         grad.getVariance() == bn.getBatchVariance() &&
         grad.getEpsilon() == bn.getEpsilon();
}

/// Whether `user` is the backward of `bn`, fused (the backward pattern may
/// run first) or not.
bool isBackwardOf(Operation *user, BatchNormTrainOp bn) {
  return differentiates(dyn_cast<BatchNormGradOp>(user), bn) ||
         differentiates(dyn_cast<BatchNormReluGradOp>(user), bn);
}

/// conv2d -> batch_norm_train [-> relu]
///   => conv2d_bn_stats -> batch_norm_train_apply [{relu}]
struct FuseConvBnReluForward : OpRewritePattern<BatchNormTrainOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(BatchNormTrainOp bn,
                                PatternRewriter &rewriter) const override {
    auto conv = bn.getInput().getDefiningOp<Conv2DOp>();
    if (!conv)
      return rewriter.notifyMatchFailure(bn, "input is not a dlc.conv2d");
    // The batch norm and its own backward read the convolution's output;
    // anything else keeps the plain convolution.
    for (Operation *user : conv->getUsers())
      if (user != bn && !isBackwardOf(user, bn))
        return rewriter.notifyMatchFailure(
            bn, "the convolution's output has another user");

    // The relu joins only as the single user of the normalized value:
    // another user needs that value before the relu.
    ReluOp relu;
    if (bn.getOutput().hasOneUse())
      relu = dyn_cast<ReluOp>(*bn.getOutput().getUsers().begin());

    SmallVector<Location> locs = {conv.getLoc(), bn.getLoc()};
    if (relu)
      locs.push_back(relu.getLoc());
    Location loc = rewriter.getFusedLoc(locs);

    rewriter.setInsertionPoint(conv);
    Operation *stats =
        createInferred(rewriter, loc, Conv2DBnStatsOp::getOperationName(),
                       conv->getOperands(), conv->getAttrs());

    rewriter.setInsertionPoint(bn);
    SmallVector<NamedAttribute> attrs = {
        rewriter.getNamedAttr("epsilon", bn.getEpsilonAttr()),
        rewriter.getNamedAttr("momentum", bn.getMomentumAttr())};
    if (relu)
      attrs.push_back(rewriter.getNamedAttr("relu", rewriter.getUnitAttr()));
    Operation *apply =
        createInferred(rewriter, loc, BatchNormTrainApplyOp::getOperationName(),
                       {stats->getResult(0), stats->getResult(1),
                        stats->getResult(2), bn.getGamma(), bn.getBeta(),
                        bn.getRunningMean(), bn.getRunningVariance()},
                       attrs);

    if (relu)
      rewriter.replaceOp(relu, apply->getResult(0));
    rewriter.replaceOp(bn, apply->getResults());
    rewriter.replaceOp(conv, stats->getResult(0));
    return success();
  }
};

/// relu_grad -> batch_norm_grad => batch_norm_relu_grad.
struct FuseConvBnReluBackward : OpRewritePattern<BatchNormGradOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(BatchNormGradOp grad,
                                PatternRewriter &rewriter) const override {
    auto reluGrad = grad.getOutputGrad().getDefiningOp<ReluGradOp>();
    if (!reluGrad)
      return rewriter.notifyMatchFailure(grad,
                                         "output_grad is not a dlc.relu_grad");
    if (!reluGrad->hasOneUse())
      return rewriter.notifyMatchFailure(
          grad, "the masked gradient has another user");
    Operation *producer = grad.getInput().getDefiningOp();
    if (!isa_and_nonnull<Conv2DOp, Conv2DBnStatsOp>(producer))
      return rewriter.notifyMatchFailure(
          grad, "the batch norm's input is not a convolution's output");

    Location loc = rewriter.getFusedLoc({reluGrad.getLoc(), grad.getLoc()});
    Operation *fused = createInferred(
        rewriter, loc, BatchNormReluGradOp::getOperationName(),
        {reluGrad.getOutputGrad(), reluGrad.getOutput(), grad.getInput(),
         grad.getGamma(), grad.getMean(), grad.getVariance()},
        {rewriter.getNamedAttr("epsilon", grad.getEpsilonAttr())});
    rewriter.replaceOp(grad, fused->getResults());
    rewriter.eraseOp(reluGrad);
    return success();
  }
};

struct DLCFuseConvBnReluPass
    : mlir::dlc::impl::DLCFuseConvBnReluBase<DLCFuseConvBnReluPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseConvBnReluForward, FuseConvBnReluBackward>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
