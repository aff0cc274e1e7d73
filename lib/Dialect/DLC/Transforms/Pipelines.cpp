//===- Pipelines.cpp - The driver's graph optimizations ------------------===//
//
// One definition of what dlc runs on the steps that dlc-build-train-step
// builds, shared by the driver, the benchmarks and the tests (so that what
// is tested is what ships) and registered for dlc-opt as
// -dlc-optimize-steps.
//
//===----------------------------------------------------------------------===//

#include "dlc/Dialect/DLC/Transforms/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::dlc;

void mlir::dlc::buildOptimizeStepsPipeline(OpPassManager &pm,
                                           const StepFusionOptions &options) {
  pm.addPass(createCanonicalizerPass());
  if (options.convBnRelu)
    pm.addNestedPass<func::FuncOp>(createDLCFuseConvBnRelu());
  if (options.foldBatchNorm)
    pm.addNestedPass<func::FuncOp>(createDLCFoldBatchNorm());
  if (options.softmaxCrossEntropy)
    pm.addNestedPass<func::FuncOp>(createDLCFuseSoftmaxCrossEntropy());
  pm.addPass(createCSEPass());
}

namespace {
struct OptimizeStepsCLOptions : PassPipelineOptions<OptimizeStepsCLOptions> {
  Option<bool> convBnRelu{*this, "fuse-conv-bn-relu",
                          llvm::cl::desc("Run dlc-fuse-conv-bn-relu"),
                          llvm::cl::init(true)};
  Option<bool> foldBatchNorm{*this, "fold-batch-norm",
                             llvm::cl::desc("Run dlc-fold-batch-norm"),
                             llvm::cl::init(true)};
  Option<bool> softmaxCrossEntropy{
      *this, "fuse-softmax-cross-entropy",
      llvm::cl::desc("Run dlc-fuse-softmax-cross-entropy"),
      llvm::cl::init(true)};
};
} // namespace

void mlir::dlc::registerOptimizeStepsPipeline() {
  PassPipelineRegistration<OptimizeStepsCLOptions>(
      "dlc-optimize-steps",
      "The dlc driver's graph optimizations on the training and inference "
      "steps: canonicalize, the fusion passes, cse",
      [](OpPassManager &pm, const OptimizeStepsCLOptions &cl) {
        StepFusionOptions options;
        options.convBnRelu = cl.convBnRelu;
        options.foldBatchNorm = cl.foldBatchNorm;
        options.softmaxCrossEntropy = cl.softmaxCrossEntropy;
        buildOptimizeStepsPipeline(pm, options);
      });
}
