//===- Pipeline.cpp - dlc-lower-to-cuda: linalg on tensors to kernels -----===//
//
// The whole CUDA pipeline in one function, buildLowerToCUDAPipeline, read
// top to bottom through its sub-builders: scalars into device memory,
// bufferize with dlc's calling convention, one kernel per linalg op,
// outline, kernels to NVVM and PTX, host code to the LLVM dialect with
// launches through dlc's runtime, the model table.
//
//===----------------------------------------------------------------------===//

#include "dlc/Target/CUDA/CUDATarget.h"

#include "dlc/Target/CPU/Passes.h"
#include "dlc/Target/CUDA/Passes.h"
#include "dlc/Target/Passes.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/GPUCommon/GPUCommonPass.h"
#include "mlir/Conversion/GPUToNVVM/GPUToNVVMPass.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/NVGPUToNVVM/NVGPUToNVVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/Threading.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::dlc;

//===----------------------------------------------------------------------===//
// The stages of dlc-lower-to-cuda
//===----------------------------------------------------------------------===//

/// 1. Buffers, with the CPU target's calling convention (dlc-cpu-prepare-abi
///    and -finalize-abi are target-independent): every buffer is device
///    memory, scalars first become rank-0 device tensors (graph replay).
///    Temporaries get freed (through the runtime's caching allocator).
static void addBufferization(OpPassManager &pm) {
  pm.addPass(createCanonicalizerPass());
  // Chains of elementwise generics merged, elementwise producers into
  // their reductions, as on the CPU (batch-norm's normalize + relu, the
  // relu and BN gradients into their channel sums): one kernel and one
  // pass over memory instead of one per op.
  pm.addNestedPass<func::FuncOp>(createCPUFuseElementwisePass());
  pm.addPass(createCUDADeviceScalarsPass());
  pm.addPass(createCPUPrepareABIPass());
  pm.addPass(bufferization::createEmptyTensorEliminationPass());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createCPUFinalizeABIPass());
  bufferization::BufferResultsToOutParamsPassOptions outParams;
  outParams.hoistStaticAllocs = true;
  outParams.modifyPublicFunctions = true;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  pm.addPass(createCanonicalizerPass());
  bufferization::buildBufferDeallocationPipeline(pm);
  pm.addPass(createCanonicalizerPass());
}

/// 2. One gpu.launch per linalg op over blocks x threads, outlined into
///    one gpu.module, or a few to compile in parallel (the `gpu` stage).
static void addKernels(OpPassManager &pm, const CUDAPipelineOptions &options) {
  int64_t modules = options.kernelModules;
  if (modules <= 0)
    modules = std::clamp<int64_t>(
        llvm::hardware_concurrency().compute_thread_count(), 1, 8);
  CUDAFormKernelsPassOptions kernels;
  kernels.blockSize = options.blockSize;
  kernels.tensorCores = options.tensorCores;
  // No canonicalization between forming and outlining: it would hoist the
  // constants of the kernels (their loop bounds) back to the host, and the
  // kernels would get them as parameters and divide by them at run time.
  pm.addNestedPass<func::FuncOp>(createCUDAFormKernelsPass(kernels));
  pm.addPass(createGpuKernelOutliningPass());
  pm.addPass(createCUDAMergeKernelModulesPass({modules}));
}

/// 3. The kernels through NVVM to PTX (in process, no toolkit needed):
///    math expanded so the PTX imports nothing from libdevice.
static void addKernelsToNVVM(OpPassManager &pm,
                             const CUDAPipelineOptions &options) {
  GpuNVVMAttachTargetOptions target;
  target.chip = options.chip;
  target.features = options.features;
  target.optLevel = 3;
  pm.addPass(createGpuNVVMAttachTarget(target));
  pm.addPass(createLowerAffinePass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  kernels.addPass(createSCFToControlFlowPass());
  kernels.addPass(createCUDAExpandMathPass());
  // The tensor-core kernels' nvgpu.mma.sync to nvvm.mma.sync first (their
  // vector<4x1xf32> fragments become the i32 registers of the PTX).
  kernels.addPass(createConvertNVGPUToNVVMPass());
  kernels.addPass(createConvertGpuOpsToNVVMOps());
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createCSEPass());
  kernels.addPass(createReconcileUnrealizedCastsPass());
}

/// 4. The host side in the LLVM dialect: allocations through the runtime
///    (generic alloc functions), launches through dlc_cuda_launch with the
///    PTX and cubin embedded; then the model table.
static void addHostToLLVM(OpPassManager &pm,
                          const CUDAPipelineOptions &options) {
  pm.addPass(createSCFToControlFlowPass());
  FinalizeMemRefToLLVMConversionPassOptions memref;
  memref.useGenericFunctions = true;
  pm.addPass(createFinalizeMemRefToLLVMConversionPass(memref));
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createGpuToLLVMConversionPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  // gpu-module-to-binary{format=isa}, the modules in parallel.
  pm.addPass(createCUDASerializeKernelsPass());
  CUDAEmbedKernelsPassOptions embed;
  embed.ptxas = options.ptxas;
  embed.cubinArch = options.cubinArch;
  pm.addPass(createCUDAEmbedKernelsPass(embed));
  pm.addPass(createCanonicalizerPass());
}

void mlir::dlc::buildLowerToCUDAPipeline(OpPassManager &pm,
                                         const CUDAPipelineOptions &options) {
  addBufferization(pm);
  addKernels(pm, options);
  if (options.stopAfterOutlining)
    return;
  addKernelsToNVVM(pm, options);
  addHostToLLVM(pm, options);
  // 5. The runtime's table and packed entry points, from dlc.model.
  DLCEmitModelTableOptions table;
  table.device = "cuda";
  pm.addPass(createDLCEmitModelTable(table));
}

namespace {
/// dlc-opt's view of CUDAPipelineOptions.
struct CUDAPipelineCLOptions : PassPipelineOptions<CUDAPipelineCLOptions> {
  Option<std::string> chip{*this, "chip",
                           llvm::cl::desc("PTX target architecture"),
                           llvm::cl::init("sm_80")};
  Option<std::string> features{*this, "features",
                               llvm::cl::desc("PTX ISA version (+ptxNN)"),
                               llvm::cl::init("+ptx80")};
  Option<std::string> ptxas{
      *this, "ptxas",
      llvm::cl::desc("ptxas to assemble a cubin with (empty: PTX only)")};
  Option<std::string> cubinArch{*this, "cubin-arch",
                                llvm::cl::desc("Architecture of the cubin"),
                                llvm::cl::init("sm_90")};
  Option<int64_t> blockSize{*this, "block-size",
                            llvm::cl::desc("Threads per block"),
                            llvm::cl::init(256)};
  Option<bool> tensorCores{
      *this, "tensor-cores",
      llvm::cl::desc("Contractions as tensor-core kernels (mma.sync tf32)"),
      llvm::cl::init(true)};
  Option<int64_t> kernelModules{
      *this, "kernel-modules",
      llvm::cl::desc("gpu.modules to compile the kernels in, in parallel (0: "
                     "one per hardware thread, at most 8)"),
      llvm::cl::init(1)};
  Option<bool> stopAfterOutlining{
      *this, "stop-after-outlining",
      llvm::cl::desc("Stop once the kernels are outlined (the gpu stage)"),
      llvm::cl::init(false)};
};
} // namespace

void mlir::dlc::registerCUDAPipelines() {
  PassPipelineRegistration<CUDAPipelineCLOptions>(
      "dlc-lower-to-cuda",
      "Lower linalg on tensors to CUDA kernels (PTX) and host code in the "
      "LLVM dialect that launches them through dlc's runtime",
      [](OpPassManager &pm, const CUDAPipelineCLOptions &cl) {
        CUDAPipelineOptions options;
        options.chip = cl.chip;
        options.features = cl.features;
        options.ptxas = cl.ptxas;
        options.cubinArch = cl.cubinArch;
        options.blockSize = cl.blockSize;
        options.tensorCores = cl.tensorCores;
        options.kernelModules = cl.kernelModules;
        options.stopAfterOutlining = cl.stopAfterOutlining;
        buildLowerToCUDAPipeline(pm, options);
      });
}
