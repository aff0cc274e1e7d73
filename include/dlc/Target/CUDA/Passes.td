//===- Passes.td - dlc CUDA code generation passes ---------*- tablegen -*-===//
//
// The passes of the CUDA pipeline that upstream MLIR does not provide:
// scalars in device memory, one kernel per linalg op, one gpu.module, math
// without libdevice, and the host's launch calls with the embedded PTX and
// cubin. buildLowerToCUDAPipeline (lib/Target/CUDA/Pipeline.cpp) strings
// them together with the upstream GPU/NVVM passes.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_TARGET_CUDA_PASSES_TD
#define DLC_TARGET_CUDA_PASSES_TD

include "mlir/Pass/PassBase.td"

def CUDADeviceScalarsPass
    : Pass<"dlc-cuda-device-scalars", "::mlir::ModuleOp"> {
  let summary = "Pass the scalar arguments of public functions in device "
                "memory";
  let description = [{
    A CUDA graph replays its kernels with the parameters they were captured
    with, so a value that changes from step to step (the step number, the
    seed, the learning rate) cannot be a kernel parameter. This pass turns
    every scalar argument (`i64`, `i32`, `f32`) of a public function into a
    rank-0 tensor argument that the function reads with `tensor.extract`;
    the kernels then load it from device memory on every replay. The
    entries of the `dlc.model` description get `device_scalar`, which the
    model table turns into the DLC_TENSOR_DEVICE_SCALAR flag (the runtime
    then passes a rank-0 descriptor of device memory for them).

    ```mlir
    func.func @f(%step: i64) ...
    // becomes
    func.func @f(%arg: tensor<i64>) { %step = tensor.extract %arg[] ... }
    ```
  }];
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
}

def CUDAFormKernelsPass
    : Pass<"dlc-cuda-form-kernels", "::mlir::func::FuncOp"> {
  let summary = "One gpu.launch per linalg op, over blocks x threads";
  let description = [{
    Runs on buffers. Every `memref.copy` becomes a `linalg.copy`; every
    linalg op gets its parallel dimensions first (generic ops are
    interchanged) and is lowered to an `scf.parallel` nest over them, with
    its reduction dimensions as `scf.for` loops inside: each thread computes
    whole output elements, so reductions are sequential per thread and
    deterministic (no atomics).

    A reduction with few outputs and a long reduction (batch-norm
    statistics, filter and bias gradients: outputs filling fewer than half
    of `split-threads` threads) is split instead: its leading reduction
    loops are cut into chunks of at least `split-min-iterations`
    iterations, a `_partials` kernel has one thread per (chunk, output)
    that reduces its chunk in order into a temporary `memref<P x ...>`
    (from the combiner's neutral element), and a `_combine` kernel folds
    the P partials of each output into it in order. Only plain reductions
    are split (`out = out (+) f(inputs)` per output, matched with
    matchReduction, with a neutral element); the result is the same on
    every run (no atomics), though summed in another order than the CPU's.

    With `tensor-cores` (the default), an f32 contraction `out += in0 *
    in1` (linalg.matmul, batch_matmul, conv_2d_nhwc_hwcf, the generics of
    the gradients) becomes an implicit-GEMM kernel instead (TensorCores.h):
    parallel dimensions read only by in0 are M, only by in1 are N, the
    reduction dimensions are K; 64x64 block tiles of C from 64x16 and
    16x64 tiles of A and B in shared memory (gathered through the op's
    indexing maps, the contiguous NHWC index fastest across threads, out of
    range elements zero), four warps of 2 x 4 `nvgpu.mma.sync` m16n8k8 tf32
    tiles with f32 accumulators. When its tiles fill fewer than
    `tensor-core-split-blocks` blocks and K is long (a filter gradient's
    batch reduction), K is split into chunks written as partials and
    combined in order by a `_combine` kernel, as above: deterministic.

    Two fusions save kernels: a `linalg.fill` followed by the op that
    writes its buffer (one element per thread) becomes a store of the value
    at the start of that op's threads; an elementwise generic after an
    unsplit op, over the same points and reading that op's output at the
    thread's own element (and writing nothing the op reads), runs in the
    op's threads after it (`fuse-epilogues`: bias + relu after a matmul or
    conv, gradient masks).

    Each top-level `scf.parallel` then becomes a `gpu.launch`: its
    iteration space is linearized (the innermost dimension fastest, so
    neighbouring threads touch neighbouring NHWC elements: coalesced) over
    `ceil(n / block-size)` blocks of `block-size` threads, with a bounds
    guard. Any other computation left at the top level (a reduction to a
    scalar, a store into a rank-0 buffer) runs in a one-thread launch, so
    that the host code only allocates, takes views and launches.

    Scalar computations defined outside a launch (arith and math ops, loads
    of the function's rank-0 arguments, e.g. Adam's bias corrections from
    the step number) are cloned into every launch that uses them: the host
    never reads device memory.
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", "256",
           "Threads per block">,
    Option<"splitThreads", "split-threads", "int64_t", "131072",
           "Split a reduction whose outputs fill fewer than half this many "
           "threads (0: never split)">,
    Option<"splitMinIterations", "split-min-iterations", "int64_t", "64",
           "Iterations per thread at least, in a split reduction">,
    Option<"fuseEpilogues", "fuse-epilogues", "bool", "true",
           "Run an elementwise consumer in the threads of the kernel before "
           "it">,
    Option<"tensorCores", "tensor-cores", "bool", "true",
           "Run f32 contractions (matmul, conv and their gradients) as "
           "tensor-core kernels (mma.sync tf32, shared-memory tiles); "
           "false: the SIMT kernel">,
    Option<"tensorCoreSplitBlocks", "tensor-core-split-blocks", "int64_t",
           "264",
           "Split the K loop of a tensor-core kernel whose output tiles fill "
           "fewer than this many blocks (0: never split)">
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::affine::AffineDialect",
                           "::mlir::nvgpu::NVGPUDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect"];
}

def CUDAMergeKernelModulesPass
    : Pass<"dlc-cuda-merge-kernel-modules", "::mlir::ModuleOp"> {
  let summary = "Move the outlined kernels into one gpu.module (or a few)";
  let description = [{
    gpu-kernel-outlining creates one `gpu.module` per kernel; this pass
    moves all kernels into a single `gpu.module @dlc_kernels` (kernel names
    are unique already) and updates the `gpu.launch_func` references, so
    that the executable embeds one PTX module and one cubin, loaded once.
    With `modules=N` (N > 1) the kernels go to `@dlc_kernels_0` ...
    `@dlc_kernels_<N-1>` instead, largest first (by operation count) into
    the lightest module, so that NVVM conversion, dlc-cuda-serialize-kernels
    and ptxas work on N balanced modules in parallel; fewer modules when
    there are fewer kernels.
    A kernel structurally identical to one already moved (same attributes
    but its name, equal bodies up to locations: the forward convolutions
    that @predict, @eval_step, @features and @train_step each launch) is
    dropped, and its launches go to the first one: resnet_small's 457
    outlined kernels are 192 distinct ones, and NVVM, the NVPTX backend and
    ptxas compile 2.6x less code. A kept kernel that several functions
    launch is renamed `shared_<op>` (its name without the first function's
    prefix, made unique), so that profiles name it neutrally.
  }];
  let options = [
    Option<"modules", "modules", "int64_t", "1",
           "Number of gpu.modules to spread the kernels over (>= 1)">
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

def CUDASerializeKernelsPass
    : Pass<"dlc-cuda-serialize-kernels", "::mlir::ModuleOp"> {
  let summary = "Every gpu.module to a gpu.binary of PTX, in parallel";
  let description = [{
    What `gpu-module-to-binary{format=isa}` does (each module's targets
    serialized through their TargetAttrInterface: for `#nvvm.target`, the
    translation to LLVM IR, LLVM's O3 and the NVPTX backend), but for all
    `gpu.module`s at once on the context's thread pool: upstream's pass
    serializes one module after the other. The `gpu.binary` ops are then
    created in module order, so the output does not depend on the threads.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

def CUDAExpandMathPass : Pass<"dlc-cuda-expand-math"> {
  let summary = "Expand math ops into arith (no libdevice needed)";
  let description = [{
    convert-gpu-to-nvvm turns `math.exp`, `math.log`, `math.tanh`,
    `math.powf`, ... into calls to libdevice (`__nv_expf`), which the PTX
    then imports: the module would need libdevice linked at compile time.
    This pass expands them first (math-expand-ops, then upstream's f32
    polynomial approximations), so the PTX is self-contained; `math.sqrt`
    and `math.rsqrt` stay (NVPTX has instructions for them).
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect"];
}

def CUDAEmbedKernelsPass
    : Pass<"dlc-cuda-embed-kernels", "::mlir::ModuleOp"> {
  let summary = "Embed the kernels' PTX (and cubin) and launch them through "
                "dlc's runtime";
  let description = [{
    Runs after dlc-cuda-serialize-kernels (or gpu-module-to-binary
    {format=isa}) and gpu-to-llvm. The PTX of a single `gpu.binary` becomes
    the constant `@dlc_cuda_ptx`; when `ptxas` names an executable, the PTX
    is also assembled for `cubin-arch` into `@dlc_cuda_cubin` (the runtime
    loads the cubin first and falls back to the driver's JIT of the PTX).
    `@dlc_cuda_image` describes both. With several binaries (the modules of
    dlc-cuda-merge-kernel-modules{modules=N}) each gets its own
    `@dlc_cuda_ptx_<binary>`, `@dlc_cuda_cubin_<binary>` and
    `@dlc_cuda_image_<binary>`, ptxas runs on them in parallel, and each
    launch names the image of its kernel's module:

    ```c
    // ptx is NUL-terminated (the JIT wants a string); ptx_size excludes it.
    struct { const char *ptx; int64_t ptx_size;
             const void *cubin; int64_t cubin_size; };
    ```

    Every `gpu.launch_func` becomes a call of the runtime's

    ```c
    void dlc_cuda_launch(const void *image, void **function_slot,
                         const char *kernel, int64_t grid_x, int64_t grid_y,
                         int64_t grid_z, int64_t block_x, int64_t block_y,
                         int64_t block_z, int32_t shared_bytes,
                         void **params);
    ```

    with the kernel parameters packed as cuLaunchKernel wants them (an
    array of pointers to each value) and a per-kernel slot that caches the
    CUfunction. The `gpu.binary` is erased: nothing of upstream's `mgpu*`
    runtime is needed.
  }];
  let options = [
    Option<"ptxas", "ptxas", "std::string", "\"\"",
           "ptxas to assemble a cubin with (empty: embed only the PTX)">,
    Option<"cubinArch", "cubin-arch", "std::string", "\"sm_90\"",
           "The GPU architecture of the cubin">
  ];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

#endif // DLC_TARGET_CUDA_PASSES_TD
