//===- Pipeline.cpp - dlc-lower-to-cpu: linalg on tensors to LLVM ---------===//
//
// The whole CPU pipeline in one function, buildLowerToCPUPipeline, read top
// to bottom through its sub-builders: schedule the heavy ops on tensors,
// bufferize with dlc's calling convention, lower vectors and loops, convert
// everything to the LLVM dialect, add the model table. The dlc-specific
// passes are in this directory; the rest is upstream.
//
//===----------------------------------------------------------------------===//

#include "dlc/Target/CPU/CPUTarget.h"

#include "dlc/Target/CPU/Passes.h"
#include "dlc/Target/Passes.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/LinalgToStandard/LinalgToStandard.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/OpenMPToLLVM/ConvertOpenMPToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/SCFToOpenMP/SCFToOpenMP.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::dlc;

//===----------------------------------------------------------------------===//
// The stages of dlc-lower-to-cpu
//===----------------------------------------------------------------------===//

/// 1. Merge chains of elementwise generics (one pass over memory instead of
///    one per op), then register-tile and vectorize convolutions, matmuls
///    and pooling while they are still tensors (tile sizes come from each
///    op's shape), with their elementwise consumers in the epilogue of each
///    output tile.
static void addScheduleOnTensors(OpPassManager &pm,
                                 const CPUPipelineOptions &options) {
  pm.addPass(createCanonicalizerPass());
  if (options.fuseElementwise)
    pm.addNestedPass<func::FuncOp>(createCPUFuseElementwisePass());
  // Reductions over the batch, per sample: a share of the batch per thread
  // (results independent of the thread count).
  if (options.minParallelWork > 0)
    pm.addNestedPass<func::FuncOp>(createCPUSplitBatchReductionsPass());
  if (!options.vectorize)
    return;
  VectorRegisterFile registers = getVectorRegisterFile(options);
  CPUTileAndVectorizePassOptions tiling;
  tiling.vectorLanes = registers.lanes;
  tiling.accumulatorRegisters = registers.accumulators;
  tiling.fuseEpilogue = options.fuseEpilogue;
  pm.addNestedPass<func::FuncOp>(createCPUTileAndVectorizePass(tiling));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

/// 2. Buffers. Public functions get C entry points and read-only arguments
///    (unless donated); results tied to an argument (dlc.result) are written
///    in place there; the other results go into buffers the caller passes
///    (buffer-results-to-out-params), computed there directly rather than
///    in a temporary (hoist-static-allocs).
static void addBufferization(OpPassManager &pm) {
  pm.addPass(createCPUPrepareABIPass());
  pm.addPass(bufferization::createEmptyTensorEliminationPass());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  // Folds loop-carried buffers and self-copies so that a result is visibly
  // its allocation, which buffer-results-to-out-params then replaces.
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createCPUFinalizeABIPass());
  bufferization::BufferResultsToOutParamsPassOptions outParams;
  outParams.hoistStaticAllocs = true;
  outParams.modifyPublicFunctions = true;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  pm.addPass(createCanonicalizerPass());
}

/// 3. Accumulators into registers, vectors down to 1-D; whatever linalg is
///    left (elementwise ops, reductions, gathers) becomes loops that the
///    LLVM loop vectorizer handles. Temporaries share one static workspace.
static void addLoops(OpPassManager &pm, const CPUPipelineOptions &options) {
  if (options.vectorize) {
    pm.addPass(memref::createFoldMemRefAliasOpsPass());
    pm.addNestedPass<func::FuncOp>(createCPULowerVectorsPass());
  }
  pm.addNestedPass<func::FuncOp>(createCPUExpandStridedCopiesPass());
  bufferization::buildBufferDeallocationPipeline(pm);
  pm.addPass(createConvertLinalgToParallelLoopsPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  // Temporaries: views of one static workspace per function, packed by
  // live range (no malloc per step).
  if (options.planWorkspace)
    pm.addPass(createCPUPlanWorkspacePass());
}

/// 4. Every core: the outermost independent loop of each nest becomes an
///    OpenMP worksharing loop (static schedule, no reduction across
///    threads, so results do not depend on the thread count); the rest
///    stays sequential.
static void addThreads(OpPassManager &pm, const CPUPipelineOptions &options) {
  CPUParallelizePassOptions parallelize;
  if (options.minParallelWork > 0)
    parallelize.minWork = options.minParallelWork;
  else
    parallelize.minWork = std::numeric_limits<int64_t>::max();
  pm.addNestedPass<func::FuncOp>(createCPUParallelizePass(parallelize));
  // Profile mode: time each kernel, outside its parallel region.
  if (options.profile)
    pm.addPass(createCPUInstrumentKernelsPass());
  pm.addPass(createConvertSCFToOpenMPPass());
  // That pass wraps each loop body in a memref.alloca_scope, which must
  // stay one block; the bodies hold no allocas, and canonicalization
  // inlines such scopes before scf-to-cf splits the bodies into blocks.
  pm.addPass(createCanonicalizerPass());
}

/// 5. The LLVM dialect. tanh has no LLVM intrinsic: expand it to exp.
static void addConvertToLLVM(OpPassManager &pm) {
  pm.addPass(createConvertVectorToSCFPass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(math::createMathExpandOpsPass({/*opMnemonics=*/{"tanh"}}));
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void mlir::dlc::buildLowerToCPUPipeline(OpPassManager &pm,
                                        const CPUPipelineOptions &options) {
  addScheduleOnTensors(pm, options);
  addBufferization(pm);
  addLoops(pm, options);
  addThreads(pm, options);
  addConvertToLLVM(pm);
  // 6. The runtime's table and packed entry points, from dlc.model.
  DLCEmitModelTableOptions table;
  table.device = "cpu";
  pm.addPass(createDLCEmitModelTable(table));
}

namespace {
/// dlc-opt's view of CPUPipelineOptions.
struct CPUPipelineCLOptions : PassPipelineOptions<CPUPipelineCLOptions> {
  Option<bool> vectorize{*this, "vectorize",
                         llvm::cl::desc("Tile and vectorize conv, matmul and "
                                        "pooling (off: plain loops)"),
                         llvm::cl::init(true)};
  Option<bool> fuseElementwise{
      *this, "fuse-elementwise",
      llvm::cl::desc("Merge chains of elementwise generics"),
      llvm::cl::init(true)};
  Option<bool> fuseEpilogue{
      *this, "fuse-epilogue",
      llvm::cl::desc("Run elementwise consumers of conv/matmul on each "
                     "output tile"),
      llvm::cl::init(true)};
  Option<std::string> cpu{*this, "cpu",
                          llvm::cl::desc("LLVM CPU name (default: the host)")};
  Option<std::string> features{
      *this, "features", llvm::cl::desc("LLVM target features (+avx2,...)")};
  Option<int64_t> minParallelWork{
      *this, "min-parallel-work",
      llvm::cl::desc("Iterations below which a loop nest stays on one "
                     "thread (0: no threads at all)"),
      llvm::cl::init(16384)};
  Option<bool> planWorkspace{
      *this, "plan-workspace",
      llvm::cl::desc("Temporaries in one static workspace per function "
                     "(dlc-cpu-plan-workspace)"),
      llvm::cl::init(true)};
  Option<bool> profile{*this, "profile",
                       llvm::cl::desc("Time every kernel "
                                      "(dlc-cpu-instrument-kernels)"),
                       llvm::cl::init(false)};
  Option<int64_t> vectorLanes{
      *this, "vector-lanes",
      llvm::cl::desc("f32 lanes per vector register (0: from the target)"),
      llvm::cl::init(0)};
  Option<int64_t> accumulatorRegisters{
      *this, "accumulator-registers",
      llvm::cl::desc("Registers a tile's accumulators may use (0: from the "
                     "target)"),
      llvm::cl::init(0)};
};
} // namespace

void mlir::dlc::registerCPUPipelines() {
  PassPipelineRegistration<CPUPipelineCLOptions>(
      "dlc-lower-to-cpu",
      "Lower linalg on tensors to the LLVM dialect for the host CPU (tile, "
      "vectorize, bufferize with dlc's C calling convention)",
      [](OpPassManager &pm, const CPUPipelineCLOptions &cl) {
        CPUPipelineOptions options;
        options.vectorize = cl.vectorize;
        options.fuseElementwise = cl.fuseElementwise;
        options.fuseEpilogue = cl.fuseEpilogue;
        options.cpu = cl.cpu;
        options.features = cl.features;
        options.vectorLanes = cl.vectorLanes;
        options.minParallelWork = cl.minParallelWork;
        options.profile = cl.profile;
        options.planWorkspace = cl.planWorkspace;
        options.accumulatorRegisters = cl.accumulatorRegisters;
        buildLowerToCPUPipeline(pm, options);
      });
}

LogicalResult mlir::dlc::lowerToLLVMDialect(ModuleOp module,
                                            const CPUPipelineOptions &options) {
  PassManager pm(module.getContext());
  buildLowerToCPUPipeline(pm, options);
  return pm.run(module);
}
