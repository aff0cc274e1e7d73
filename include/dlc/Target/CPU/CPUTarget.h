//===- CPUTarget.h - dlc's CPU code generator, as a library -----*- C++ -*-===//
//
// dlc's CPU code generator: the `cpu` Target of the compiler library
// (createCPUTarget) and, below it, one function per stage so that every
// stage can be printed (`--emit=llvm`, `--emit=obj`) and tested:
//
//   linalg on tensors (lowerToLinalg, dlc/Compiler/Compiler.h)
//     --lowerToLLVMDialect--> LLVM dialect with the model table
//     --translateToLLVMIR--> llvm::Module, O3 for the host
//     --emitObjectFile--> ELF object
//
// Everything runs in process (PassManager, translateModuleToLLVMIR,
// PassBuilder, TargetMachine); nothing shells out.
//
// Calling convention of the compiled functions (the C ABI)
// -------------------------------------------------------
// Every public func.func @f of the module is compiled to a C entry point
//
//   void _mlir_ciface_f(<arguments>, <results>);
//
// * A tensor argument of rank R is passed as a pointer to a memref
//   descriptor, `StridedMemRefType<T, R> *` from
//   mlir/ExecutionEngine/CRunnerUtils.h:
//     struct { T *allocated; T *aligned; int64_t offset;
//              int64_t sizes[R]; int64_t strides[R]; }   // no sizes for R = 0
//   with the static shape of the argument, row-major strides and offset 0.
//   Scalars (the i64 key of randomized ops) are passed by value.
// * Every tensor result becomes one more descriptor pointer after the
//   arguments, in result order: the caller owns and allocates the buffer
//   (static shape, row-major) and the function writes it. Nothing returned by
//   the function needs to be freed by the caller. Out-parameters must not
//   alias the arguments.
// * Arguments are read-only, unless the func.func argument carries
//   `bufferization.writable = true`: the caller then donates that buffer and
//   the function may overwrite it with anything.
// * An argument with `dlc.result = N` is updated in place: result N is
//   written into that argument's buffer and has no out-parameter (the
//   remaining results keep their order). This is how a training step
//   updates parameters and optimizer state without copies:
//     func.func @sgd(%w: tensor<8xf32> {dlc.result = 0 : i64},
//                    %g: tensor<8xf32>) -> (tensor<8xf32>, tensor<f32>)
//     ==> void _mlir_ciface_sgd(MemRef1D *w, MemRef1D *g, MemRef0D *loss);
// * Temporary buffers are allocated with malloc and freed before returning;
//   the object needs only libc and libm.
//
// A second entry point `f` with the descriptors expanded into scalar
// arguments also exists (MLIR's default lowering); prefer `_mlir_ciface_f`.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_TARGET_CPU_CPUTARGET_H
#define DLC_TARGET_CPU_CPUTARGET_H

#include "dlc/Compiler/Compiler.h"
#include "dlc/Compiler/Target.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>

namespace llvm {
class LLVMContext;
class Module;
class TargetMachine;
class raw_pwrite_stream;
} // namespace llvm

namespace mlir {
class OpPassManager;

namespace dlc {

/// Knobs of the CPU pipeline.
struct CPUPipelineOptions {
  /// Tile and vectorize convolutions, matmuls and pooling. Off, they become
  /// plain loops (about 25x slower; useful as a reference).
  bool vectorize = true;
  /// Merge chains of elementwise generics into one pass (cpu-fuse-elementwise).
  bool fuseElementwise = true;
  /// Run elementwise consumers of convolutions and matmuls (bias,
  /// activation) and the batch-norm statistics of dlc.conv2d_bn_stats on
  /// each output tile, in the kernel's epilogue.
  bool fuseEpilogue = true;
  /// LLVM CPU name and feature string to compile for; empty: the host CPU
  /// and its detected features. E.g. cpu = "x86-64-v3" targets AVX2 + FMA
  /// without AVX-512.
  std::string cpu;
  std::string features;
  /// Register-tile shape; 0: derived from the target (8 lanes and 12
  /// accumulator registers of 16 with AVX2, 16 lanes and 24 of 32 with
  /// AVX-512).
  int64_t vectorLanes = 0;
  int64_t accumulatorRegisters = 0;
  /// Loop nests with at least this many iterations run on every core
  /// (OpenMP, dlc-cpu-parallelize); 0 keeps all code on one thread.
  int64_t minParallelWork = 16384;
  /// Time every kernel (dlc-cpu-instrument-kernels; `train --profile`).
  bool profile = false;
  /// Temporaries as views of one static workspace per function, packed by
  /// live range (dlc-cpu-plan-workspace); off: malloc/free per call.
  bool planWorkspace = true;
  /// LLVM optimization level of translateToLLVMIR (0 to 3).
  unsigned llvmOptLevel = 3;
  /// emitObjectFilesInParallel prints each part's translation,
  /// optimization and code generation time to stderr (dlc compile -v).
  bool printTimes = false;
};

/// The register file that the tile sizes are chosen for.
struct VectorRegisterFile {
  int64_t lanes;        // f32 lanes per vector register
  int64_t accumulators; // registers a tile's accumulators may occupy
};

/// The register file of the target of `options` (explicit values win).
VectorRegisterFile getVectorRegisterFile(const CPUPipelineOptions &options);

/// The `cpu` Target: dlc-lower-to-cpu, `--emit=llvm|obj`, objects compiled
/// on two threads, the static runtime library.
std::unique_ptr<Target> createCPUTarget(const CPUPipelineOptions &options = {});

/// Adds dlc-lower-to-cpu to `pm` (anchored on a module): linalg on tensors
/// to the LLVM dialect, with the calling convention above and the model
/// table (dlc-emit-model-table).
void buildLowerToCPUPipeline(OpPassManager &pm,
                             const CPUPipelineOptions &options = {});

/// Registers the `dlc-lower-to-cpu` pass pipeline (for dlc-opt).
void registerCPUPipelines();

/// Lowers a linalg-on-tensors `module` to the LLVM dialect.
LogicalResult lowerToLLVMDialect(ModuleOp module,
                                 const CPUPipelineOptions &options = {});

/// A TargetMachine for `options.cpu` / `options.features` (the host CPU
/// and its detected features when empty), PIC, optimizing aggressively.
/// Initializes the native LLVM target once.
llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(const CPUPipelineOptions &options = {});

/// Translates an LLVM-dialect `module` to LLVM IR in `llvmContext`, sets the
/// target's triple and data layout and runs the LLVM O`options.llvmOptLevel`
/// pipeline tuned for the target. Returns null after emitting an MLIR
/// diagnostic on failure.
std::unique_ptr<llvm::Module>
translateToLLVMIR(ModuleOp module, llvm::LLVMContext &llvmContext,
                  const CPUPipelineOptions &options = {});

/// Writes `module` (from translateToLLVMIR) as an object file to `os`.
llvm::Error emitObjectFile(llvm::Module &module, llvm::raw_pwrite_stream &os,
                           const CPUPipelineOptions &options = {});

/// Translates, optimizes and compiles an LLVM-dialect `module` in up to
/// `parts` parts, one per group of its public functions (balanced by
/// size), optimized in parallel threads; each optimized part is then split
/// by function into `parts` pieces for code generation on the same threads
/// (one function with all its outlined parallel regions, train_step, is
/// most of the code). The result is one object per piece, the first
/// part's first; each declares what the others define (local symbols
/// become hidden ones with a per-part prefix). Linked together they are the
/// object of translateToLLVMIR + emitObjectFile. Public globals (the model
/// table) are defined in the first object only.
/// `completeFirst`, when given, runs on the first part's LLVM IR before it
/// is optimized. `pieces` (0: `parts`) is the number of code generation
/// pieces per part: a module whose private globals must exist once (the
/// CUDA target's kernel images) is one part, optimized whole, and still
/// generates code on several threads.
llvm::Expected<SmallVector<SmallString<0>>> emitObjectFilesInParallel(
    ModuleOp module, const CPUPipelineOptions &options, unsigned parts,
    llvm::function_ref<llvm::Error(llvm::Module &)> completeFirst = {},
    unsigned pieces = 0);

/// Every stage at once: a module of dlc and/or linalg ops to a host object.
llvm::Error compileToObjectFile(ModuleOp module, llvm::raw_pwrite_stream &os,
                                const CPUPipelineOptions &options = {});

} // namespace dlc
} // namespace mlir

#endif // DLC_TARGET_CPU_CPUTARGET_H
