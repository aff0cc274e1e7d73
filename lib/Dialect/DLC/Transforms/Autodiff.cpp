//===- Autodiff.cpp - Reverse-mode differentiation of dlc ops -------------===//
//
// Plain reverse mode over a straight-line list of ops: the gradient of each
// result is complete once every later op has been visited, so one backward
// sweep suffices. Only values in the `varied` set get gradients, which skips
// e.g. the input gradient of a network's first layer.
//
//===----------------------------------------------------------------------===//

#include "dlc/Dialect/DLC/Transforms/Autodiff.h"
#include "dlc/Dialect/DLC/IR/DLCOps.h"

using namespace mlir;
using namespace mlir::dlc;

llvm::DenseSet<Value> mlir::dlc::computeVariedValues(ArrayRef<Operation *> ops,
                                                     ValueRange roots) {
  llvm::DenseSet<Value> varied(roots.begin(), roots.end());
  for (Operation *op : ops)
    if (llvm::any_of(op->getOperands(),
                     [&](Value v) { return varied.contains(v); }))
      varied.insert(op->getResults().begin(), op->getResults().end());
  return varied;
}

LogicalResult mlir::dlc::buildReverseMode(OpBuilder &builder,
                                          ArrayRef<Operation *> ops,
                                          const llvm::DenseSet<Value> &varied,
                                          llvm::DenseMap<Value, Value> &grads) {
  auto accumulate = [&](Value v, Value g) {
    auto [it, inserted] = grads.try_emplace(v, g);
    if (!inserted) // A value used twice (e.g. a residual): gradients add up.
      it->second =
          AddOp::create(builder, g.getLoc(), g.getType(), it->second, g);
  };
  for (Operation *op : llvm::reverse(ops)) {
    SmallVector<Value> dys;
    for (Value r : op->getResults())
      dys.push_back(grads.lookup(r));
    if (llvm::none_of(dys, [](Value v) { return bool(v); }))
      continue;
    SmallVector<bool> needed;
    for (Value v : op->getOperands())
      needed.push_back(varied.contains(v));
    if (llvm::none_of(needed, [](bool n) { return n; }))
      continue;
    auto differentiable = dyn_cast<DifferentiableOpInterface>(op);
    if (!differentiable)
      return op->emitOpError("has no gradient rule, but a trainable "
                             "parameter reaches the loss through it");
    SmallVector<Value> dxs;
    if (failed(differentiable.buildGradients(builder, dys, needed, dxs)))
      return failure();
    for (auto [operand, dx, need] : llvm::zip(op->getOperands(), dxs, needed))
      if (need && dx)
        accumulate(operand, dx);
  }
  return success();
}
