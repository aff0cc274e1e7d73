//===- Collectives.h - Data-parallel pieces of the dlc lowering -*- C++ -*-===//
//
// What the batch-norm and random lowerings need from a data-parallel
// @train_step (Collectives.cpp):
//  * a function marked `dlc.sync_batch_norm` (mlir::dlc::markSyncBatchNorm)
//    replaces the per-channel f64 statistics of its training batch norms,
//    forward and backward, by their mean over the ranks;
//  * a function marked `dlc.data_parallel` (dlc-build-train-step
//    {data-parallel}) keys its random draws by the global sample index.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_LIB_CONVERSION_DLCTOLINALG_COLLECTIVES_H
#define DLC_LIB_CONVERSION_DLCTOLINALG_COLLECTIVES_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/Value.h"

namespace mlir::dlc::lowering {

/// Whether `op`'s function synchronizes its batch norms.
bool synchronizesBatchNorm(Operation *op);

/// The mean over the ranks of the f64 [C] tensors `sums` (one call of
/// dlc_rt_all_reduce_f64 on a packed buffer), in order.
SmallVector<Value> buildStatisticsAllReduce(OpBuilder &b, Location loc,
                                            ValueRange sums);

/// The global index (index type) of this rank's first sample when `op`'s
/// function is data-parallel (a call of dlc_rt_sample_offset), else null.
Value buildSampleOffset(OpBuilder &b, Location loc, Operation *op);

/// buildBatchNormGrad (LoweringUtils.h); with `synchronize`, the input
/// gradient uses the mean over the ranks of both per-channel sums
/// (synchronized batch norm), gamma_grad and beta_grad stay the rank's.
SmallVector<Value> buildBatchNormGradFor(OpBuilder &b, Location loc,
                                         Value outputGrad, Value reluOutput,
                                         Value x, Value gamma, Value mean,
                                         Value variance, double epsilon,
                                         bool sumsInEpilogue, bool synchronize,
                                         int64_t chunk = 0);

} // namespace mlir::dlc::lowering

#endif // DLC_LIB_CONVERSION_DLCTOLINALG_COLLECTIVES_H
