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
