//===- Compiler.cpp - dlc's compilation stages ----------------------------===//
//
// The target-independent stages of Compiler.h, each a pass pipeline built
// in one function and run by one call, and the Target interface's anchor.
//
//===----------------------------------------------------------------------===//

#include "dlc/Compiler/Compiler.h"

#include "dlc/Conversion/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::dlc;

Target::~Target() = default;

void mlir::dlc::buildStepsPipeline(OpPassManager &pm,
                                   const StepOptions &options) {
  DLCBuildTrainStepOptions build;
  build.inPlace = options.inPlace;
  build.dropForward = true;
  build.features = true; // The report's feature maps (runtime: optional).
  build.gradients = options.gradients;
  build.dataParallel = options.dataParallel;
  build.bucketBytes = options.bucketBytes;
  build.overlapAllReduce = options.overlapAllReduce;
  // Parameters and FLOPs per layer are counted on @forward, the bytes kept
  // for backward on the optimized @train_step.
  pm.addPass(createDLCSummarizeLayers());
  pm.addPass(createDLCBuildTrainStep(build));
  buildOptimizeStepsPipeline(pm, options.fusions);
  pm.addPass(createDLCSummarizeLayers());
}

LogicalResult mlir::dlc::buildSteps(ModuleOp module,
                                    const StepOptions &options) {
  PassManager pm(module.getContext());
  buildStepsPipeline(pm, options);
  if (failed(pm.run(module)))
    return failure();
  if (options.reductionChunk > 0 &&
      failed(markReductionChunk(module, options.reductionChunk)))
    return failure();
  if (options.syncBatchNorm)
    return markSyncBatchNorm(module);
  return success();
}

LogicalResult mlir::dlc::markReductionChunk(ModuleOp module, int64_t chunk) {
  if (chunk <= 0)
    return module.emitError("the reduction chunk must be positive, got ")
           << chunk;
  MLIRContext *ctx = module.getContext();
  auto attr = IntegerAttr::get(IntegerType::get(ctx, 64), chunk);
  module.walk(
      [&](func::FuncOp fn) { fn->setAttr("dlc.reduction_chunk", attr); });
  module->setAttr("dlc.reduction_chunk", attr);
  return success();
}

LogicalResult mlir::dlc::markSyncBatchNorm(ModuleOp module) {
  auto trainStep = module.lookupSymbol<func::FuncOp>("train_step");
  if (!trainStep || !trainStep->hasAttr("dlc.data_parallel"))
    return module.emitError(
        "synchronized batch norm needs a data-parallel "
        "@train_step (dlc-build-train-step{data-parallel})");
  // The lowering of its training batch norms averages their per-channel
  // sums over the ranks (Collectives.cpp); the module attribute records
  // it in the model's settings, for the runtime.
  MLIRContext *ctx = module.getContext();
  trainStep->setAttr("dlc.sync_batch_norm", UnitAttr::get(ctx));
  module->setAttr("dlc.sync_batch_norm", BoolAttr::get(ctx, true));
  return success();
}

void mlir::dlc::buildLowerToLinalgPipeline(OpPassManager &pm) {
  // The description is read while the step functions still carry their
  // names and roles; it then travels as a module attribute to the target's
  // dlc-emit-model-table.
  pm.addPass(createDLCDescribeModel());
  pm.addPass(createConvertDLCToLinalgPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

LogicalResult mlir::dlc::lowerToLinalg(ModuleOp module) {
  PassManager pm(module.getContext());
  buildLowerToLinalgPipeline(pm);
  return pm.run(module);
}

LogicalResult mlir::dlc::lowerForTarget(ModuleOp module, const Target &target,
                                        StringRef stage) {
  PassManager pm(module.getContext());
  if (stage.empty())
    target.buildLoweringPipeline(pm);
  else
    target.buildLoweringPipelineFor(pm, stage);
  return pm.run(module);
}

namespace {
/// The fusion flags are dlc-optimize-steps' own; compose
/// `dlc-build-train-step{in-place drop-forward},dlc-optimize-steps{...}`
/// to set them.
struct StepsCLOptions : PassPipelineOptions<StepsCLOptions> {
  Option<bool> inPlace{*this, "in-place",
                       llvm::cl::desc("Update train_step's state in place"),
                       llvm::cl::init(true)};
};
} // namespace

void mlir::dlc::registerCompilerPipelines() {
  PassPipelineRegistration<StepsCLOptions>(
      "dlc-build-steps",
      "The compiler library's steps stage: dlc-build-train-step (in place, "
      "@forward dropped) and dlc-optimize-steps",
      [](OpPassManager &pm, const StepsCLOptions &cl) {
        StepOptions options;
        options.inPlace = cl.inPlace;
        buildStepsPipeline(pm, options);
      });
  PassPipelineRegistration<>(
      "dlc-lower-to-linalg",
      "The compiler library's linalg stage: dlc-describe-model, "
      "convert-dlc-to-linalg, canonicalize, cse",
      [](OpPassManager &pm) { buildLowerToLinalgPipeline(pm); });
}
