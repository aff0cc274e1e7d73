//===- Compiler.h - dlc's compilation stages, as a library ------*- C++ -*-===//
//
// One function per stage of the model pipeline, shared by the `dlc` driver,
// dlc-opt (as registered pipelines), the benchmarks and the tests, so that
// what is tested and benchmarked is what ships:
//
//   import (dlc/Import)          model file -> func @forward (dlc dialect)
//   buildSteps                   -> @train_step, @eval_step, @predict,
//                                   graph optimizations (fusions)
//   lowerToLinalg                -> the model description as the dlc.model
//                                   attribute; linalg on tensors
//   lowerForTarget(Target)       -> the target's form (CPU: LLVM dialect
//                                   with the model table)
//   Target::emit / emitObjects   -> LLVM IR, objects, PTX, ...
//
// Everything before lowerForTarget is target-independent.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_COMPILER_COMPILER_H
#define DLC_COMPILER_COMPILER_H

#include "dlc/Compiler/Target.h"
#include "dlc/Dialect/DLC/Transforms/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

namespace mlir {
class OpPassManager;

namespace dlc {

/// Knobs of the target-independent stages.
struct StepOptions {
  /// The dlc-level fusions (all on by default).
  StepFusionOptions fusions;
  /// train_step updates params, optimizer state and batch-norm statistics
  /// in place (`dlc.result` ties) instead of returning new copies.
  bool inPlace = true;
  /// Also build @gradients (for gradient histograms).
  bool gradients = false;
  /// Average the gradients over the ranks of a data-parallel job inside
  /// train_step (dlc.all_reduce buckets of `bucketBytes`).
  bool dataParallel = false;
  int64_t bucketBytes = 1 << 20;
  /// With dataParallel: training batch norms use the global batch's
  /// statistics (per-channel sums averaged over the ranks; buildSteps
  /// calls markSyncBatchNorm).
  bool syncBatchNorm = false;
  /// Overlap each bucket's communication with the rest of the backward
  /// pass (dlc.all_reduce_start / wait) instead of a blocking all-reduce.
  bool overlapAllReduce = true;
  /// When > 0, every reduction over the batch is computed per chunk of
  /// this many samples and the partials added in a fixed tree
  /// (`dlc.reduction_chunk`, see markReductionChunk): results that do not
  /// depend on how the batch is split over ranks.
  int64_t reductionChunk = 0;
};

/// dlc-build-train-step (dropping @forward: @predict is what the runtime
/// calls) and the graph optimizations (dlc-optimize-steps).
void buildStepsPipeline(OpPassManager &pm, const StepOptions &options = {});
LogicalResult buildSteps(ModuleOp module, const StepOptions &options = {});

/// Marks the data-parallel @train_step of `module` for synchronized batch
/// norm (`dlc.sync_batch_norm`, read by convert-dlc-to-linalg) and records
/// it in the model's settings (`sync_batch_norm`).
LogicalResult markSyncBatchNorm(ModuleOp module);

/// Marks every function of `module` with `dlc.reduction_chunk = chunk`:
/// convert-dlc-to-linalg then computes its batch reductions (filter,
/// dense-weight and bias gradients, batch-norm sums and their gradients)
/// as one partial per chunk of `chunk` samples, each summed as a batch of
/// `chunk` would be, added pairwise (halves of an even count, recursively).
/// A job of N ranks (a power of two) whose per-rank batch is a power-of-two
/// multiple of `chunk` adds the very same partials in the same tree as one
/// process with the whole batch, so that with --sync-batch-norm the two
/// train bit-identically. Records `reduction_chunk` in the settings.
LogicalResult markReductionChunk(ModuleOp module, int64_t chunk);

/// dlc-describe-model, convert-dlc-to-linalg and a cleanup.
void buildLowerToLinalgPipeline(OpPassManager &pm);
/// Lowers every dlc op of `module` to linalg on tensors, recording the
/// model description first. Diagnostics go to the context's handler.
LogicalResult lowerToLinalg(ModuleOp module);

/// Runs `target`'s lowering pipeline on a linalg-on-tensors `module`; with
/// `stage`, the part of it that stage is printed from
/// (Target::buildLoweringPipelineFor).
LogicalResult lowerForTarget(ModuleOp module, const Target &target,
                             StringRef stage = "");

/// Registers `dlc-build-steps` and `dlc-lower-to-linalg` for dlc-opt.
void registerCompilerPipelines();

} // namespace dlc
} // namespace mlir

#endif // DLC_COMPILER_COMPILER_H
