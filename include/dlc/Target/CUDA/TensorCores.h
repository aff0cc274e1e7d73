//===- TensorCores.h - Tensor-core kernels of contractions ------*- C++ -*-===//
//
// The tensor-core kernel of dlc-cuda-form-kernels (tensor-cores=true): a
// linalg op that is a contraction `out += in0 * in1` in f32 (matmul,
// batch_matmul, conv_2d_nhwc_hwcf and the generics of the gradients) runs
// as an implicit GEMM: its parallel dimensions used only by in0 are M, only
// by in1 are N, by both (or neither) the batch; its reduction dimensions
// are K. Each block computes a kBlockM x kBlockN tile of C = A * B from
// kBlockK-deep tiles of A and B staged in shared memory; its four warps
// each own a 32x32 quarter as 2 x 4 mma.sync.m16n8k8 tf32 tiles with f32
// accumulators in registers. Operands are gathered through the op's own
// indexing maps (NHWC: the innermost index is the contiguous one), out of
// range elements read as zero, so any shape works (boundary tiles are
// predicated).
//
// The index mappings are affine expressions built here, so that the unit
// tests evaluate exactly the expressions the kernel computes.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_TARGET_CUDA_TENSORCORES_H
#define DLC_TARGET_CUDA_TENSORCORES_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/AffineExpr.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/PatternMatch.h"

#include <utility>

namespace mlir::dlc::tc {

/// The block tile, the warp tile and the shared-memory row padding (in
/// f32): with these pads the fragment reads of a warp hit 32 different
/// banks (A: row stride 20 words, B: 72 words).
constexpr int64_t kBlockM = 64, kBlockN = 64, kBlockK = 16;
constexpr int64_t kWarpM = 32, kWarpN = 32;
constexpr int64_t kWarpsN = kBlockN / kWarpN;
constexpr int64_t kThreads = 32 * (kBlockM / kWarpM) * kWarpsN;
constexpr int64_t kPadA = 4, kPadB = 8;
/// mma.sync.m16n8k8 (tf32 inputs, f32 accumulators).
constexpr int64_t kMmaM = 16, kMmaN = 8, kMmaK = 8;

/// The fragments of mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32
/// (PTX ISA, "Matrix Fragments for mma.m16n8k8", .tf32), as functions of
/// the lane: register `i` of the lane holds A[row][col] (i < 4),
/// B[row = k][col = n] (i < 2), C[row][col] (i < 4).
std::pair<AffineExpr, AffineExpr> fragmentA(AffineExpr lane, unsigned i);
std::pair<AffineExpr, AffineExpr> fragmentB(AffineExpr lane, unsigned i);
std::pair<AffineExpr, AffineExpr> fragmentC(AffineExpr lane, unsigned i);

/// The element (row, col) of a rows x cols tile that thread `tid` of
/// kThreads stages in its load number `i`: consecutive threads take
/// consecutive columns when `colsFastest`, else consecutive rows (the
/// dimension that is contiguous in global memory goes fastest, so that a
/// warp's loads coalesce).
std::pair<AffineExpr, AffineExpr> tileElement(AffineExpr tid, int64_t i,
                                              int64_t rows, int64_t cols,
                                              bool colsFastest);

/// How a linalg op maps onto the implicit GEMM.
struct ContractionPlan {
  SmallVector<int64_t> ranges;
  /// Loop dimensions of M, N, K and the batch, outermost first (each
  /// linearized with its last dimension fastest).
  SmallVector<unsigned> mDims, nDims, kDims, batchDims;
  int64_t m = 1, n = 1, k = 1, batch = 1;
  /// Whether the innermost index of in0 (A) / in1 (B) moves with K.
  bool aKFastest = false, bKFastest = false;
  /// Split-K: `splitK` chunks of `kChunk` (a multiple of kBlockK) each,
  /// written as partials and combined in order by a second kernel.
  int64_t splitK = 1, kChunk = 0;

  /// The map (m, n, k, b) -> the op's loop indices (delinearization).
  AffineMap loopsMap(MLIRContext *ctx) const;
  /// The map (m, n, k, b) -> the indices of `operand` of `op`.
  AffineMap operandMap(linalg::LinalgOp op, OpOperand &operand) const;
  int64_t tilesM() const { return (m + kBlockM - 1) / kBlockM; }
  int64_t tilesN() const { return (n + kBlockN - 1) / kBlockN; }
};

/// The plan for `op`, or failure when it is no f32 contraction the kernel
/// handles (then the SIMT kernel runs it). A contraction whose tiles would
/// fill fewer than `splitBlocks` blocks and whose K is long gets split-K.
FailureOr<ContractionPlan> planContraction(linalg::LinalgOp op,
                                           int64_t splitBlocks);

/// Per-channel sums of the contraction's output computed in its epilogue
/// (conv + batch-norm statistics): a reduction that reads the output once,
/// over all of M, with one result per N index, `out_j += f_j(element)`.
/// Each block reduces its 64 x 64 tile's elements (inside M and N) into
/// `partials[j][tileM][n]` in a fixed order: its threads' rows in order,
/// then the 16 row groups of the block through shared memory; the caller
/// combines the tiles in order (deterministic, no atomics).
struct TileStatistics {
  /// The reduction's body: its input argument, and per result the value it
  /// adds for one element (computed from the input only); the body's other
  /// operations are cloned into the epilogue to compute them.
  Block *body = nullptr;
  BlockArgument input;
  SmallVector<Value> added;
  /// Per result, a [tilesM, N] buffer of the reduction's element type.
  SmallVector<Value> partials;
};

/// The statistics' row groups of a block: a thread holds four rows of each
/// of its columns (fragmentC's g and g + 8 in both M tiles of its warp),
/// and the eight g of each warp row are the groups.
constexpr int64_t kRowGroups = (kBlockM / kWarpM) * 8;
/// The row group of thread `tid`, and the block column of its statistics
/// slot (ni, c): the column of fragmentC's element c (and c + 2) in the
/// warp's N tile ni.
AffineExpr statisticsRowGroup(AffineExpr tid);
AffineExpr statisticsColumn(AffineExpr tid, unsigned ni, unsigned c);

/// Bytes of shared memory the statistics of `results` results of `bytes`
/// each take (kRowGroups x kBlockN each).
constexpr int64_t statisticsSharedBytes(int64_t results, int64_t bytes) {
  return results * kRowGroups * kBlockN * bytes;
}

/// Replaces `op` (bufferized, planned by `plan`) by the tensor-core
/// gpu.launch named `name`. With `partials`, the kernel writes the partial
/// sum of chunk p into `partials[p]` (same shape as the output) and the
/// caller combines them; otherwise it adds its sums to the output's
/// initial value, `fill` when not null (a fused linalg.fill), else the
/// output's contents, and with `statistics` (no split K) also reduces the
/// values it stores into the statistics' partials.
LogicalResult formTensorCoreKernel(RewriterBase &rewriter, linalg::LinalgOp op,
                                   const ContractionPlan &plan, StringRef name,
                                   Value partials, Value fill,
                                   const TileStatistics *statistics = nullptr);

} // namespace mlir::dlc::tc

#endif // DLC_TARGET_CUDA_TENSORCORES_H
