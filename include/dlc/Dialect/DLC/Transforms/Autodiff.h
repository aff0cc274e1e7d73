//===- Autodiff.h - Reverse-mode differentiation of dlc ops -----*- C++ -*-===//
//
// The reverse-mode engine shared by dlc-build-train-step and the gradient
// checks: it walks ops backwards and asks each op's DifferentiableOpInterface
// rule for its operands' gradients.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_DIALECT_DLC_TRANSFORMS_AUTODIFF_H
#define DLC_DIALECT_DLC_TRANSFORMS_AUTODIFF_H

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

namespace mlir::dlc {

/// The values that depend on `roots` through `ops` (in program order),
/// `roots` included: the only values worth differentiating.
llvm::DenseSet<Value> computeVariedValues(ArrayRef<Operation *> ops,
                                          ValueRange roots);

/// Builds, at `builder`'s insertion point, the gradients of every value in
/// `varied` that `ops` (in program order) connect to the seeded values.
/// `grads` holds the seeds on entry (value -> gradient of the same type) and
/// every gradient on exit; gradients of values used several times are summed.
/// Fails (with a diagnostic) at an op without a gradient rule that lies on
/// such a path.
LogicalResult buildReverseMode(OpBuilder &builder, ArrayRef<Operation *> ops,
                               const llvm::DenseSet<Value> &varied,
                               llvm::DenseMap<Value, Value> &grads);

} // namespace mlir::dlc

#endif // DLC_DIALECT_DLC_TRANSFORMS_AUTODIFF_H
