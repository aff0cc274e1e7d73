//===- StaticTrips.h - Static trip counts of scf loops ----------*- C++ -*-===//
//
// Shared by dlc-cpu-parallelize (how much work a nest is) and
// dlc-cpu-instrument-kernels (the static flops and bytes of a kernel).
//
//===----------------------------------------------------------------------===//

#ifndef DLC_LIB_TARGET_CPU_STATICTRIPS_H
#define DLC_LIB_TARGET_CPU_STATICTRIPS_H

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

namespace mlir::dlc {

/// The static trip count of a loop dimension, or 1 when it is not static (a
/// dynamic loop is not counted as work: better sequential than slower).
inline int64_t staticTripCount(OpFoldResult lb, OpFoldResult ub,
                               OpFoldResult step) {
  std::optional<int64_t> l = getConstantIntValue(lb);
  std::optional<int64_t> u = getConstantIntValue(ub);
  std::optional<int64_t> s = getConstantIntValue(step);
  if (!l || !u || !s || *s <= 0 || *u <= *l)
    return 1;
  return (*u - *l + *s - 1) / *s;
}

/// Iterations of an scf.for or scf.parallel (all its dimensions); 1 for any
/// other op.
inline int64_t staticTripCount(Operation *op) {
  if (auto forOp = dyn_cast<scf::ForOp>(op))
    return staticTripCount(forOp.getLowerBound(), forOp.getUpperBound(),
                           forOp.getStep());
  int64_t count = 1;
  if (auto parallel = dyn_cast<scf::ParallelOp>(op))
    for (auto [lb, ub, step] :
         llvm::zip(parallel.getLowerBound(), parallel.getUpperBound(),
                   parallel.getStep()))
      count *= staticTripCount(lb, ub, step);
  return count;
}

} // namespace mlir::dlc

#endif // DLC_LIB_TARGET_CPU_STATICTRIPS_H
