//===- DLCOptimizerOps.cpp - dlc optimizer updates: verifiers -------------===//
//
// The attribute checks of the ops in DLCOptimizerOps.td (their types are
// constrained in ODS), and those of the collectives that feed them
// (DLCCollectiveOps.td).
//
//===----------------------------------------------------------------------===//

#include "dlc/Dialect/DLC/IR/DLCOps.h"

using namespace mlir;
using namespace mlir::dlc;

LogicalResult SgdUpdateOp::verify() {
  float momentum = getMomentum().convertToFloat();
  if (!(momentum >= 0.0f && momentum < 1.0f))
    return emitOpError("momentum must be in [0, 1), got ") << momentum;
  if (getNesterov() && momentum == 0.0f)
    return emitOpError("nesterov requires a non-zero momentum");
  if (!(getWeightDecay().convertToFloat() >= 0.0f))
    return emitOpError("weight_decay must be non-negative, got ")
           << getWeightDecay().convertToFloat();
  float dampening = getDampening().convertToFloat();
  if (!(dampening >= 0.0f && dampening <= 1.0f))
    return emitOpError("dampening must be in [0, 1], got ") << dampening;
  // The first step is undamped: the op must know which step it is.
  if (dampening != 0.0f && !getStep())
    return emitOpError("dampening requires the step operand");
  return success();
}

LogicalResult AdamUpdateOp::verify() {
  for (auto [name, value] : {std::make_pair("beta1", getBeta1()),
                             std::make_pair("beta2", getBeta2())}) {
    float beta = value.convertToFloat();
    if (!(beta >= 0.0f && beta < 1.0f))
      return emitOpError() << name << " must be in [0, 1), got " << beta;
  }
  if (!(getEpsilon().convertToFloat() > 0.0f))
    return emitOpError("epsilon must be positive, got ")
           << getEpsilon().convertToFloat();
  if (!(getWeightDecay().convertToFloat() >= 0.0f))
    return emitOpError("weight_decay must be non-negative, got ")
           << getWeightDecay().convertToFloat();
  float postDecay = getPostDecay().convertToFloat();
  if (!(postDecay >= 0.0f && postDecay < 1.0f))
    return emitOpError("post_decay must be in [0, 1), got ") << postDecay;
  return success();
}

//===----------------------------------------------------------------------===//
// Collectives (DLCCollectiveOps.td)
//===----------------------------------------------------------------------===//

LogicalResult AllReduceOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location>,
                                            ValueRange operands, DictionaryAttr,
                                            OpaqueProperties, RegionRange,
                                            SmallVectorImpl<Type> &inferred) {
  // Each result is its operand reduced over the ranks: same type.
  llvm::append_range(inferred, operands.getTypes());
  return success();
}

LogicalResult AllReduceOp::verify() {
  // Types are constrained in ODS (static f32 tensors, results inferred).
  if (getInputs().empty())
    return emitOpError("needs at least one tensor to reduce");
  return success();
}

LogicalResult AllReduceStartOp::inferReturnTypes(
    MLIRContext *, std::optional<Location>, ValueRange operands, DictionaryAttr,
    OpaqueProperties, RegionRange, SmallVectorImpl<Type> &inferred) {
  // In flight: the operands' types, readable only through the wait.
  llvm::append_range(inferred, operands.getTypes());
  return success();
}

LogicalResult AllReduceStartOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one tensor to reduce");
  // Every result goes to one wait, which takes all of them (its verifier
  // checks the order): nothing reads a bucket before it is complete.
  Operation *wait = nullptr;
  for (Value result : getResults())
    for (Operation *user : result.getUsers()) {
      if (!isa<AllReduceWaitOp>(user))
        return emitOpError("result is in flight and may only be used by "
                           "dlc.all_reduce_wait, not by ")
               << user->getName();
      if (wait && wait != user)
        return emitOpError("results must all go to one dlc.all_reduce_wait");
      wait = user;
    }
  if (!wait)
    return emitOpError("is never waited for (no dlc.all_reduce_wait)");
  return success();
}

AllReduceStartOp AllReduceWaitOp::getStart() {
  return getInFlight().empty()
             ? AllReduceStartOp()
             : getInFlight().front().getDefiningOp<AllReduceStartOp>();
}

LogicalResult AllReduceWaitOp::inferReturnTypes(
    MLIRContext *, std::optional<Location>, ValueRange operands, DictionaryAttr,
    OpaqueProperties, RegionRange, SmallVectorImpl<Type> &inferred) {
  llvm::append_range(inferred, operands.getTypes());
  return success();
}

LogicalResult AllReduceWaitOp::verify() {
  AllReduceStartOp start = getStart();
  if (!start)
    return emitOpError("operands must be the results of one "
                       "dlc.all_reduce_start");
  if (getInFlight() != ValueRange(start.getResults()))
    return emitOpError("must take every result of its dlc.all_reduce_start "
                       "(bucket ")
           << start.getBucket() << "), in order";
  if (start->getBlock() != (*this)->getBlock() ||
      !start->isBeforeInBlock(*this))
    return emitOpError("must follow its dlc.all_reduce_start in one block");
  return success();
}
