//===- Passes.h - dlc dialect transformations -------------------*- C++ -*-===//
//
// Declares the dlc -> dlc passes (see Passes.td for what each one does).
//
//===----------------------------------------------------------------------===//

#ifndef DLC_DIALECT_DLC_TRANSFORMS_PASSES_H
#define DLC_DIALECT_DLC_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::dlc {

#define GEN_PASS_DECL
#include "dlc/Dialect/DLC/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "dlc/Dialect/DLC/Transforms/Passes.h.inc"

/// The dlc-level fusions the graph optimizations run (all by default).
struct StepFusionOptions {
  bool convBnRelu = true;          // dlc-fuse-conv-bn-relu
  bool foldBatchNorm = true;       // dlc-fold-batch-norm
  bool softmaxCrossEntropy = true; // dlc-fuse-softmax-cross-entropy
};

/// The driver's graph optimizations on the steps built by
/// dlc-build-train-step: canonicalize, the enabled fusion passes, cse.
void buildOptimizeStepsPipeline(OpPassManager &pm,
                                const StepFusionOptions &options = {});

/// The module's `dlc.*` settings as the JSON object dlc-describe-model
/// records for the runtime (`settings_json` of the model table).
std::string getModelSettingsJson(ModuleOp module);

/// dlc-insert-gradient-all-reduce on one @train_step: each optimizer
/// update's gradient becomes a result of a bucketed dlc.all_reduce placed
/// after the last producer of its bucket; with `overlap`, a
/// dlc.all_reduce_start there and a dlc.all_reduce_wait before the first
/// update that reads the bucket. Fails (with a diagnostic) when the step
/// already reduces its gradients.
LogicalResult insertGradientAllReduce(func::FuncOp trainStep,
                                      int64_t bucketBytes, bool overlap = true);

/// Registers buildOptimizeStepsPipeline as -dlc-optimize-steps.
void registerOptimizeStepsPipeline();

} // namespace mlir::dlc

#endif // DLC_DIALECT_DLC_TRANSFORMS_PASSES_H
