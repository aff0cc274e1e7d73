//===- InsertGradientAllReduce.cpp - Bucketed gradient all-reduce --------===//
//
// Data parallelism inside the compiled step: every optimizer update of
// @train_step gets the mean of its gradient over the ranks. Gradients are
// bucketed in the order the backward pass produces them, and each bucket's
// dlc.all_reduce goes right after its last producer (see Passes.td); with
// overlap, a dlc.all_reduce_start goes there and the matching
// dlc.all_reduce_wait right before the first update that reads the bucket,
// so that the backward ops in between run while the bucket is in flight.
//
//===----------------------------------------------------------------------===//

#include "dlc/Dialect/DLC/IR/DLCOps.h"
#include "dlc/Dialect/DLC/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_DLCINSERTGRADIENTALLREDUCE
#include "dlc/Dialect/DLC/Transforms/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;
using namespace mlir::dlc;

/// The gradient operand of an optimizer update (null for other ops).
static OpOperand *gradientOperand(Operation *op) {
  if (auto sgd = dyn_cast<SgdUpdateOp>(op))
    return &sgd.getGradMutable();
  if (auto adam = dyn_cast<AdamUpdateOp>(op))
    return &adam.getGradMutable();
  return nullptr;
}

LogicalResult mlir::dlc::insertGradientAllReduce(func::FuncOp trainStep,
                                                 int64_t bucketBytes,
                                                 bool overlap) {
  if (trainStep.getBody().empty())
    return trainStep.emitOpError("has no body to insert all-reduces into");
  Block &body = trainStep.getBody().front();
  if (!body.getOps<AllReduceOp>().empty() ||
      !body.getOps<AllReduceStartOp>().empty())
    return trainStep.emitOpError(
        "already reduces its gradients across ranks (dlc.all_reduce)");

  // Program order of the ops: a gradient is ready after its producer.
  DenseMap<Operation *, int64_t> position;
  int64_t next = 0;
  for (Operation &op : body)
    position[&op] = next++;
  auto readyAt = [&](Value v) -> int64_t {
    Operation *def = v.getDefiningOp();
    return def && def->getBlock() == &body ? position.lookup(def) : -1;
  };

  SmallVector<OpOperand *> uses;
  llvm::SetVector<Value> grads;
  for (Operation &op : body)
    if (OpOperand *operand = gradientOperand(&op)) {
      uses.push_back(operand);
      grads.insert(operand->get());
    }
  if (grads.empty())
    return success();
  SmallVector<Value> ordered(grads.begin(), grads.end());
  llvm::stable_sort(ordered,
                    [&](Value a, Value b) { return readyAt(a) < readyAt(b); });

  // Buckets of consecutive gradients, at most bucketBytes each (a larger
  // gradient is a bucket alone).
  SmallVector<SmallVector<Value>> buckets;
  int64_t bytes = 0;
  for (Value grad : ordered) {
    int64_t size = cast<RankedTensorType>(grad.getType()).getNumElements() * 4;
    if (buckets.empty() || (bytes > 0 && bytes + size > bucketBytes)) {
      buckets.emplace_back();
      bytes = 0;
    }
    buckets.back().push_back(grad);
    bytes += size;
  }

  DenseMap<Value, Value> reduced;
  OpBuilder b(trainStep.getContext());
  // The collective of the bucket before: buckets are issued in their
  // order even when two of them end with the same producer (their numbers
  // are the order of issue, which the runtime's profile relies on).
  Operation *previous = nullptr;
  for (auto [index, bucket] : llvm::enumerate(buckets)) {
    Operation *last = bucket.back().getDefiningOp();
    if (last && last->getBlock() != &body)
      last = nullptr;
    if (previous && (!last || !previous->isBeforeInBlock(last)))
      b.setInsertionPointAfter(previous);
    else if (last)
      b.setInsertionPointAfter(last);
    else
      b.setInsertionPointToStart(&body);
    auto bucketIndex = static_cast<int64_t>(index);
    if (!overlap) {
      auto op = AllReduceOp::create(b, trainStep.getLoc(), bucket, bucketIndex,
                                    ReductionKind::mean);
      previous = op;
      for (auto [grad, result] : llvm::zip(bucket, op.getResults()))
        reduced[grad] = result;
      continue;
    }
    auto start = AllReduceStartOp::create(b, trainStep.getLoc(), bucket,
                                          bucketIndex, ReductionKind::mean);
    previous = start;
    // The wait as late as possible: right before the first update that
    // reads one of the bucket's gradients.
    llvm::SmallDenseSet<Value> members(bucket.begin(), bucket.end());
    Operation *firstUse = nullptr;
    for (OpOperand *use : uses)
      if (members.contains(use->get()) &&
          (!firstUse || use->getOwner()->isBeforeInBlock(firstUse)))
        firstUse = use->getOwner();
    if (firstUse && start->isBeforeInBlock(firstUse))
      b.setInsertionPoint(firstUse);
    auto wait =
        AllReduceWaitOp::create(b, trainStep.getLoc(), start.getResults());
    for (auto [grad, result] : llvm::zip(bucket, wait.getResults()))
      reduced[grad] = result;
  }
  for (OpOperand *use : uses)
    use->set(reduced.lookup(use->get()));
  return success();
}

namespace {
struct InsertGradientAllReducePass
    : public dlc::impl::DLCInsertGradientAllReduceBase<
          InsertGradientAllReducePass> {
  using DLCInsertGradientAllReduceBase::DLCInsertGradientAllReduceBase;

  void runOnOperation() override {
    if (bucketBytes <= 0) {
      getOperation().emitError("bucket-bytes must be positive, got ")
          << static_cast<int64_t>(bucketBytes);
      return signalPassFailure();
    }
    auto step = getOperation().lookupSymbol<func::FuncOp>("train_step");
    if (!step) {
      getOperation().emitError("no function @train_step to insert the "
                               "gradient all-reduce into");
      return signalPassFailure();
    }
    if (failed(insertGradientAllReduce(step, bucketBytes, overlap)))
      signalPassFailure();
  }
};
} // namespace
