//===- FoldBatchNorm.cpp - Inference batch norm into the convolution ------===//
//
// conv2d -> batch_norm (running statistics) is an affine map per output
// channel after a linear one, so it is one convolution with a rescaled
// filter and a new bias. The parameters are function arguments (run-time
// values), so the new filter and bias are computed by
// dlc.fold_batch_norm_params at run time: a pass over the filter instead of
// one over the activations.
//
//===----------------------------------------------------------------------===//

#include "dlc/Dialect/DLC/IR/DLCOps.h"
#include "dlc/Dialect/DLC/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_DLCFOLDBATCHNORM
#include "dlc/Dialect/DLC/Transforms/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;
using namespace mlir::dlc;

namespace {

/// conv2d -> batch_norm => fold_batch_norm_params + conv2d.
struct FoldBatchNormIntoConv : OpRewritePattern<BatchNormOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(BatchNormOp bn,
                                PatternRewriter &rewriter) const override {
    auto conv = bn.getInput().getDefiningOp<Conv2DOp>();
    if (!conv)
      return rewriter.notifyMatchFailure(bn, "input is not a dlc.conv2d");
    if (!conv->hasOneUse())
      return rewriter.notifyMatchFailure(
          bn, "the convolution's output has another user");

    // Built at the batch norm: its parameters may be defined after the
    // convolution, and the convolution's operands dominate it.
    Location loc = rewriter.getFusedLoc({conv.getLoc(), bn.getLoc()});
    SmallVector<Value> operands = {conv.getFilter()};
    if (conv.getBias())
      operands.push_back(conv.getBias());
    operands.append(
        {bn.getGamma(), bn.getBeta(), bn.getMean(), bn.getVariance()});
    OperationState foldState(loc, FoldBatchNormParamsOp::getOperationName());
    foldState.addOperands(operands);
    foldState.addAttribute("epsilon", bn.getEpsilonAttr());
    FailureOr<Operation *> folded =
        createWithInferredTypes(rewriter, foldState);
    if (failed(folded))
      return failure();

    // The same convolution, on the folded filter and bias.
    OperationState convState(loc, Conv2DOp::getOperationName());
    convState.addOperands(
        {conv.getInput(), (*folded)->getResult(0), (*folded)->getResult(1)});
    for (NamedAttribute attr : conv->getAttrs())
      convState.addAttribute(attr.getName(), attr.getValue());
    convState.addTypes(conv.getType());
    Operation *newConv = rewriter.create(convState);

    rewriter.replaceOp(bn, newConv->getResults());
    rewriter.eraseOp(conv);
    return success();
  }
};

struct DLCFoldBatchNormPass
    : mlir::dlc::impl::DLCFoldBatchNormBase<DLCFoldBatchNormPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldBatchNormIntoConv>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
