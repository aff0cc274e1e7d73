//===- CUDATarget.h - dlc's CUDA code generator, as a library ---*- C++ -*-===//
//
// The `cuda` Target of the compiler library (createCUDATarget):
//
//   linalg on tensors (lowerToLinalg, dlc/Compiler/Compiler.h)
//     --dlc-lower-to-cuda (buildLowerToCUDAPipeline)-->
//       kernels: one gpu.launch per linalg op (--emit=gpu shows them,
//                outlined into gpu.module @dlc_kernels), NVVM, PTX
//                (--emit=ptx), a cubin from ptxas when it is found
//       host:    the step functions in the LLVM dialect, calling
//                dlc_cuda_launch (lib/Runtime/CUDADevice.cpp) for every
//                kernel, with the model table (device = cuda)
//     --translateToLLVMIR / emitObjectFile (the CPU target's, for the
//       host)--> the object of the executable (--emit=llvm|obj)
//
// Calling convention: the CPU target's (dlc/Target/CPU/CPUTarget.h), with
// every buffer in device memory, and the scalar arguments (step, seed,
// learning rate) passed as rank-0 descriptors of device memory (the table
// flags them DLC_TENSOR_DEVICE_SCALAR), so that the runtime can capture the
// step as a CUDA graph and replay it. Temporaries are allocated through the
// runtime (_mlir_memref_to_llvm_alloc), which caches them: a step makes no
// driver allocation after the first.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_TARGET_CUDA_CUDATARGET_H
#define DLC_TARGET_CUDA_CUDATARGET_H

#include "dlc/Compiler/Target.h"

#include <memory>
#include <string>

namespace mlir {
class DialectRegistry;
class OpPassManager;

namespace dlc {

/// Knobs of the CUDA pipeline.
struct CUDAPipelineOptions {
  /// The PTX's target architecture and PTX ISA: sm_80 PTX runs on every
  /// GPU from Ampere on (the driver JIT-compiles it for newer ones).
  std::string chip = "sm_80";
  std::string features = "+ptx80";
  /// The architecture of the cubin ptxas assembles (the GPU the executable
  /// is meant for; the runtime falls back to the PTX on any other).
  std::string cubinArch = "sm_90";
  /// ptxas; empty: embed the PTX only. createCUDATarget fills it with
  /// findPtxas() when asked to.
  std::string ptxas;
  /// Threads per block of the kernels.
  int64_t blockSize = 256;
  /// f32 contractions (matmul, conv and their gradients) as tensor-core
  /// kernels (mma.sync tf32, shared-memory tiles); false: the SIMT kernels
  /// of every other op (to compare the two on a GPU).
  bool tensorCores = true;
  /// The kernels are spread over this many gpu.modules (one embedded image
  /// each), converted to NVVM, translated to PTX and assembled side by side:
  /// the lowering's longest steps on as many cores. 0: one per hardware
  /// thread, at most 8. `--emit=ptx` always makes one (one PTX file).
  int64_t kernelModules = 1;
  /// Stop after the kernels are outlined (the `gpu` stage).
  bool stopAfterOutlining = false;
};

/// ptxas from $CUDA_HOME, $CUDA_PATH, $CUDA_ROOT, /usr/local/cuda or PATH;
/// empty when there is none.
std::string findPtxas();

/// The `cuda` Target: dlc-lower-to-cuda, `--emit=gpu|ptx|llvm|obj`, the
/// runtime (whose CUDA device opens libcuda.so.1 at run time).
std::unique_ptr<Target>
createCUDATarget(const CUDAPipelineOptions &options = {});

/// Adds dlc-lower-to-cuda to `pm` (anchored on a module).
void buildLowerToCUDAPipeline(OpPassManager &pm,
                              const CUDAPipelineOptions &options = {});

/// Registers the `dlc-lower-to-cuda` pass pipeline (for dlc-opt).
void registerCUDAPipelines();

/// The NVVM target attribute and the LLVM IR translations that
/// gpu-module-to-binary needs.
void registerCUDATargetInterfaces(DialectRegistry &registry);

} // namespace dlc
} // namespace mlir

#endif // DLC_TARGET_CUDA_CUDATARGET_H
