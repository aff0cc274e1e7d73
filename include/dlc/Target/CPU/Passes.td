//===- Passes.td - dlc CPU code generation passes ----------*- tablegen -*-===//
//
// The passes of the CPU pipeline that upstream MLIR does not provide as
// passes: the tiling/vectorization schedule of the compute-heavy linalg ops,
// the vector lowering that goes with it, and the calling convention of the
// compiled functions. buildLowerToCPUPipeline (Pipeline.cpp) strings them
// together with the upstream passes.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_TARGET_CPU_PASSES_TD
#define DLC_TARGET_CPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def CPUFuseElementwisePass
    : Pass<"dlc-cpu-fuse-elementwise", "::mlir::func::FuncOp"> {
  let summary = "Merge chains of elementwise linalg.generic ops";
  let description = [{
    Fuses an elementwise `linalg.generic` into its elementwise consumer when
    it has no other use (no computation is duplicated), e.g. the batch-norm
    scale/shift and the relu after it become one pass over memory.

    Unlike upstream `linalg-fuse-elementwise-ops`, reshapes are left where
    they are: that pass also propagates `tensor.collapse_shape` through
    contractions, which turns `flatten` + `dense` into a 5-D generic that
    the matmul schedule no longer recognizes (measured: the mnist_cnn
    forward went from ~30 ms to 540 ms).
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def CPUSplitBatchReductionsPass
    : Pass<"dlc-cpu-split-batch-reductions", "::mlir::func::FuncOp"> {
  let summary = "Reduce over the batch per sample, then combine in order";
  let description = [{
    A `linalg.generic` on tensors whose outermost loop is a reduction (the
    batch of batch-norm statistics and of their gradients) and whose
    outputs accumulate with `addf`, `addi`, `maximumf` or `minimumf` becomes
    two generics: the first computes one partial result per sample (the
    batch dimension is now parallel, so its iterations can run on every
    core and its epilogue fusion into a convolution's tiles still works),
    the second (`dlc.combine`) adds the partials to the original outputs in
    sample order. The arithmetic and its order are fixed at compile time:
    the results do not depend on the number of threads.

    Reductions smaller than `min-work` iterations, or whose partials would
    exceed `max-partial-elements`, are left alone.
  }];
  let options = [
    Option<"minWork", "min-work", "int64_t", /*default=*/"16384",
           "Iterations below which a reduction stays as it is">,
    Option<"maxPartialElements", "max-partial-elements", "int64_t",
           /*default=*/"1048576",
           "Largest per-sample partial result, in elements">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def CPUTileAndVectorizePass
    : Pass<"dlc-cpu-tile-and-vectorize", "::mlir::func::FuncOp"> {
  let summary = "Tile and vectorize convolutions, matmuls and pooling";
  let description = [{
    Register-tiles every statically shaped `linalg.conv_2d_nhwc_hwcf`,
    `linalg.depthwise_conv_2d_nhwc_hwc`, `linalg.pooling_nhwc_{max,sum}` and
    `linalg.matmul` on tensors with `scf.for` loops, then decomposes the 2-D
    windows (now of height 1) into their 1-D forms and vectorizes them.

    Tile sizes are chosen per op from its shape so that they always divide
    the iteration space: a tile that does not divide would leave a dynamic
    remainder that the vectorizer skips (measured: 2.4 instead of 50
    GFLOP/s). For a convolution the loops (n, oh, ow, f, kh, kw, c) get tiles
    (1, 1, W, F, 1, full, C): an output row strip of W pixels by F filters
    (at most `accumulator-registers` vector registers), one filter row, all
    filter columns, and C input channels per step. The fill or bias
    broadcast that initializes a convolution's or pooling's accumulator is
    fused into the output tile. Matmuls are first blocked along the
    reduction (at most 512) so that the rows of A and the panel of B they
    touch stay in L2. A convolution whose filter is larger than its output
    and than L2 (a filter gradient) is tiled reduction first, so that the
    filter is read once. A `linalg.transpose` that moves the innermost
    dimension is tiled into 16 x 16 blocks (left as loops).

    **Epilogues** (`fuse-epilogue`, on by default). At the output-tile
    level of a convolution or matmul (a tile is complete there), its
    consumers that read the result elementwise (identity map) run on each
    tile right after the reduction, while it is in registers or L1,
    instead of in another pass over memory: activations, residual adds,
    any float-arithmetic `linalg.generic` whose other operands exist
    before the loops (empty tensors and fills are hoisted). Reductions
    join only when marked `dlc.epilogue` by the lowering of a fused op
    (`dlc.conv2d_bn_stats`: the batch-norm sums then accumulate per tile
    into loop-carried per-channel vectors). When the single epilogue is
    elementwise and nothing else reads the convolution's output, the
    convolution accumulates straight into the epilogue's output tile,
    which the epilogue overwrites in place: the pre-activation tensor is
    never stored (an inference conv + folded batch norm + relu is one
    kernel). A matmul whose reduction is blocked (K > 512) completes its
    tiles only in the last block: with an elementwise reader (dense + bias
    + activation) it is split along K into two matmuls, the last block
    accumulating onto the leading ones and carrying the epilogue. Not
    fused: integer bodies (dropout's generator) and consumers of values
    computed after the loops.

    Example (32 -> 64 channels, 3x3, 24x24 output):
    ```mlir
    %0 = linalg.conv_2d_nhwc_hwcf ins(%x, %w : tensor<64x26x26x32xf32>, ...)
    ```
    becomes loops over n, oh, ow (step 3), f (step 32), kh, c (step 8)
    around `vector.contract`s of `vector<1x3x8xf32>` by `vector<8x32xf32>`.
  }];
  let options = [
    Option<"vectorLanes", "vector-lanes", "int64_t", /*default=*/"8",
           "f32 lanes of one vector register (8: AVX2, 16: AVX-512)">,
    Option<"accumulatorRegisters", "accumulator-registers", "int64_t",
           /*default=*/"12",
           "Vector registers a tile's accumulators may use (AVX2 has 16)">,
    Option<"fuseEpilogue", "fuse-epilogue", "bool", /*default=*/"true",
           "Run elementwise consumers (and dlc.epilogue reductions) of a "
           "convolution or matmul on each output tile">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def CPUParallelizePass
    : Pass<"dlc-cpu-parallelize", "::mlir::func::FuncOp"> {
  let summary = "Choose the loops that run on every core";
  let description = [{
    Runs after bufferization, once linalg has become loops
    (`convert-linalg-to-parallel-loops` gives `scf.parallel` over the
    parallel dimensions of each op) and before `convert-scf-to-openmp`.

    - An `scf.for` that the schedule marked `dlc.parallel` (the output-tile
      loops of a convolution or matmul, whose iterations write disjoint
      tiles) becomes an `scf.parallel` when it carries no values.
    - Only the outermost parallel loop of a nest stays parallel: a parallel
      loop inside another loop (an `scf.parallel` of channels inside the
      sequential loops of a reduction) becomes `scf.for` again, so that a
      parallel region is not entered once per element. The exception are
      the schedule's tile loops inside at most `max-regions-per-nest`
      iterations of sequential loops (the reduction blocks of a blocked
      matmul or of a filter gradient), each block being ample work, or
      inside any number of them when each block has at least
      `min-region-work` element operations (entering a region costs a few
      microseconds with libomp's spinning workers).
    - A loop nest with less than `min-work` element operations in all
      (each operation counted once per iteration around it, vector
      operations once per lane) stays sequential: starting the threads
      would cost more than it saves.

    A parallel loop over several dimensions shares only its leading ones
    (enough for 64 iterations, never the innermost): OpenMP collapses the
    shared dimensions into one loop whose body recomputes the indices by
    division, which the LLVM loop vectorizer does not vectorize.

    No loop that stays parallel carries a reduction across its iterations
    (`scf.parallel` loops from linalg come from parallel iterators only),
    so every value is computed by the same instructions in the same order
    whatever the number of threads: results are bit-identical for any
    `--threads`.
  }];
  let options = [
    Option<"minWork", "min-work", "int64_t", /*default=*/"16384",
           "Element operations below which a loop nest stays sequential">,
    Option<"maxRegionsPerNest", "max-regions-per-nest", "int64_t",
           /*default=*/"256",
           "Most iterations of sequential loops around a parallel tile loop, "
           "unless each one is at least min-region-work">,
    Option<"minRegionWork", "min-region-work", "int64_t",
           /*default=*/"131072",
           "Element operations per parallel region above which a tile loop "
           "stays parallel inside any number of sequential iterations "
           "(0: never)">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect"];
}

def CPUInstrumentKernelsPass
    : Pass<"dlc-cpu-instrument-kernels", "::mlir::ModuleOp"> {
  let summary = "Time every kernel of the compiled functions (profile mode)";
  let description = [{
    Runs after dlc-cpu-parallelize, before the OpenMP conversion. Every
    top-level loop nest or copy of a function with a body (a kernel) is
    bracketed by calls to `dlc_profile_enter(i32 id)` and
    `dlc_profile_exit(i32 id)`, which the runtime defines; the external
    constant string `@dlc_profile_kernels` describes each id as JSON:
    function, layers (the names in its locations), loops (the shape of its
    outer loops), flops and bytes (static counts: vector operations per
    lane, FMAs as two flops, loads and stores in bytes). `EXE train
    --profile` prints each kernel's share of the time and its GFLOP/s and
    GB/s from them.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::func::FuncDialect",
    "::mlir::LLVM::LLVMDialect",
  ];
}

def CPULowerVectorsPass
    : Pass<"dlc-cpu-lower-vectors", "::mlir::func::FuncOp"> {
  let summary = "Hoist accumulators and lower vector ops to 1-D (x86 SIMD)";
  let description = [{
    Runs after bufferization. Hoists the loop-invariant transfer_read /
    transfer_write pairs of the accumulators out of the reduction loops, so
    that they live in registers (a write of `transpose(broadcast(v))` that
    only reinserts unit dimensions first becomes a write of `v` with the
    read's permutation map, as in a filter gradient's tile), then lowers `vector.contract` to outer
    products (FMAs of one broadcast by one vector), multi-dimensional
    transfers to 1-D loads and stores, and shape casts / broadcasts / 
    transposes to what the LLVM conversion expects.
  }];
  let dependentDialects = [
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def CPUPrepareABIPass : Pass<"dlc-cpu-prepare-abi", "::mlir::ModuleOp"> {
  let summary = "Fix the calling convention of the compiled functions";
  let description = [{
    Runs before bufferization. Every public `func.func` gets
    `llvm.emit_c_interface`, so its compiled form has a
    `_mlir_ciface_<name>` entry point taking memref descriptors by pointer
    (see dlc/Target/CPU/CPUTarget.h for the full convention).

    A tensor argument is read-only unless it carries
    `bufferization.writable = true` (the caller donates that buffer and the
    function may overwrite it): an unmarked argument gets
    `bufferization.writable = false`.

    An argument with `dlc.result = N` is updated in place: result N is
    written into that argument's buffer instead of an out-parameter
    (dlc-cpu-finalize-abi removes it from the signature after
    bufferization). The argument becomes writable, and when result N comes
    out of a destination-style op that writes into a `tensor.empty`, the op
    writes into the argument instead, so that bufferization can compute it
    there directly.

    ```mlir
    func.func @sgd(%w: tensor<8xf32> {dlc.result = 0 : i64}, %g: tensor<8xf32>)
        -> tensor<8xf32>
    // compiles to: void _mlir_ciface_sgd(MemRef1D *w, MemRef1D *g);
    ```
  }];
}

def CPUFinalizeABIPass : Pass<"dlc-cpu-finalize-abi", "::mlir::ModuleOp"> {
  let summary = "Drop results tied to arguments after bufferization";
  let description = [{
    Runs after one-shot bufferization and before
    buffer-results-to-out-params. For every argument with `dlc.result = N`,
    result N is removed from the function's results; when bufferization
    did not compute it in the argument's buffer already, it is copied there
    just before returning.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def CPUExpandStridedCopiesPass
    : Pass<"dlc-cpu-expand-strided-copies", "::mlir::func::FuncOp"> {
  let summary = "Turn copies between strided memrefs into linalg.copy";
  let description = [{
    `memref.copy` between memrefs that are not both contiguous lowers to a
    call to `memrefCopy` from MLIR's C runner utilities, a library the
    compiled objects must not depend on. This pass rewrites those copies
    (e.g. into a slice of a concatenation) as `linalg.copy`, which becomes
    plain loops; contiguous copies stay `memref.copy` (an `llvm.memcpy`).
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def CPUPlanWorkspacePass
    : Pass<"dlc-cpu-plan-workspace", "::mlir::ModuleOp"> {
  let summary = "Place each function's temporaries in one static workspace";
  let description = [{
    After bufferization and buffer deallocation, every temporary of a
    compiled step is a `memref.alloc` in the function's entry block, freed
    by a `memref.dealloc` at its end: a training step would call malloc and
    free about a hundred times per step, and keep every temporary alive
    until the step returns. This pass computes each temporary's live range
    (from its allocation to the last use of it or of any view of it, in
    entry-block order), packs the buffers into one byte array by greedy
    placement (largest first, lowest offset that does not overlap a buffer
    live at the same time), and rewrites each allocation as a `memref.view`
    of a per-function `memref.global` (uninitialized, so it lands in .bss:
    no bytes in the object file, pages touched once per process): no
    allocation per step, and dead temporaries' memory is reused within the
    step.

    Left alone: allocations with dynamic sizes, non-identity layouts or
    outside the entry block (per-iteration buffers of parallel loops), and
    buffers used by a call or a return. A buffer also read by an operation
    that is not known to finish with it (a call) stays live to the end of
    the function. The compiled functions are therefore not reentrant, which
    the runtime never needs (one step at a time per process).
  }];
  let options = [
    Option<"alignment", "alignment", "int64_t", /*default=*/"64",
           "Byte alignment of every buffer in the workspace">,
  ];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

#endif // DLC_TARGET_CPU_PASSES_TD
